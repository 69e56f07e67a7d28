package io.gpupool.core.serving;

import java.time.Duration;

/**
 * Whether the model's Hugging Face token reached every contributed cluster that runs its replicas, and why not.
 *
 * @param shared  true when every cluster that needs it has it
 * @param reason  the reason of condition {@value #CONDITION}
 * @param message a sentence for a person
 */
public record CredentialsOutcome(boolean shared, String reason, String message) {

    /** Condition type on the ModelDeployment, present only while replicas on contributed clusters need the token. */
    public static final String CONDITION = "CredentialsShared";
    /** How soon to try again when the token could not be shared (a Secret or a RoleBinding may appear any time). */
    public static final Duration RETRY = Duration.ofSeconds(15);
}
