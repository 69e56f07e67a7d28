package io.gpupool.operator;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;

/**
 * Leader election for production (quarkus-operator-sdk activates it for the profiles in
 * quarkus.operator-sdk.activate-leader-election-for-profiles, by default prod): a standby replica takes over within
 * the lease duration; only the leader reconciles and runs admission cycles ({@link Leadership}, which the lease tells),
 * so the scheduler's ledger and the contributor ledger have exactly one writer.
 */
@Singleton
public class LeaderElection extends LeaderElectionConfiguration {

    public static final String LEASE_NAME = "gpupool-operator-leader";

    @Inject
    public LeaderElection(Leadership leadership) {
        // The lease in the operator's namespace, under its pod's name, with JOSDK's default times; a replica that
        // loses the lease exits (its replacement starts as a standby).
        super(LEASE_NAME, null, LEASE_DURATION_DEFAULT_VALUE, RENEW_DEADLINE_DEFAULT_VALUE, RETRY_PERIOD_DEFAULT_VALUE,
                null, leadership.callbacks(), true);
    }
}
