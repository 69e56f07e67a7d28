package io.gpupool.core.status;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;

/**
 * metav1.Condition bookkeeping with an injected clock: lastTransitionTime changes only when the status flips, so a
 * status that did not change serializes the same and needs no patch.
 */
public final class Conditions {

    public static final String ADMITTED = "Admitted";
    public static final String READY = "Ready";
    public static final String PREEMPTED = "Preempted";
    public static final String INVALID_SPEC = "InvalidSpec";

    private Conditions() {
    }

    /** Returns {@code conditions} with {@code type} set, keeping its transition time when its status is unchanged. */
    public static List<Condition> set(List<Condition> conditions, String type, boolean status, String reason,
            String message, Long observedGeneration, Clock clock) {
        List<Condition> out = new ArrayList<>();
        Condition previous = null;
        for (Condition c : conditions == null ? List.<Condition> of() : conditions) {
            if (type.equals(c.getType())) {
                previous = c;
            } else {
                out.add(c);
            }
        }
        String s = status ? "True" : "False";
        String since = previous != null && s.equals(previous.getStatus()) && previous.getLastTransitionTime() != null
                ? previous.getLastTransitionTime()
                : Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
        out.add(new ConditionBuilder().withType(type).withStatus(s).withReason(reason).withMessage(message)
                .withObservedGeneration(observedGeneration).withLastTransitionTime(since).build());
        out.sort((a, b) -> a.getType().compareTo(b.getType()));
        return out;
    }

    public static List<Condition> remove(List<Condition> conditions, String type) {
        List<Condition> out = new ArrayList<>(conditions == null ? List.of() : conditions);
        out.removeIf(c -> type.equals(c.getType()));
        return out;
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty()
                : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
    }
}
