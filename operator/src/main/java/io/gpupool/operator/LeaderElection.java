package io.gpupool.operator;

import jakarta.inject.Singleton;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;

/**
 * Leader election for production (quarkus-operator-sdk activates it for the profiles in
 * quarkus.operator-sdk.activate-leader-election-for-profiles, by default prod): a standby replica takes over within
 * the lease duration; only the leader reconciles, so the scheduler's ledger has exactly one writer.
 */
@Singleton
public class LeaderElection extends LeaderElectionConfiguration {

    public LeaderElection() {
        super("gpupool-operator-leader");
    }
}
