package io.gpupool.operator;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.quarkiverse.operatorsdk.runtime.QuarkusConfigurationService;

/**
 * Whether this replica of the operator leads the pool. The chart runs two replicas; both watch the pool, so that the
 * standby's caches are warm when it takes over, but only the leader acts: JOSDK gives reconciles to the leader alone,
 * and everything that runs outside a reconcile (the admission cycles the pool's own changes ask for, the statuses and
 * ledger checkpoints they write) asks this. A standby that ran cycles would publish its own view, from a scheduler that
 * reconciles nothing, over the leader's: Organizations would flip between the two, and the contributor ledger would have
 * two writers.
 *
 * <p>Without leader election (the dev and test profiles, the playground) the only replica leads from the start. With
 * it (the prod profile) a replica leads from JOSDK's start-of-leading callback ({@link #callbacks()}, given to the lease
 * by {@link LeaderElection}); a replica that stops leading exits, as JOSDK makes it.
 */
@ApplicationScoped
public class Leadership {

    private final BooleanSupplier elected;
    private final List<Runnable> takeovers = new CopyOnWriteArrayList<>();
    /** Null until known: whether leader election is on is read when first needed (the configuration is built late). */
    private volatile Boolean leading;

    /** @param elected whether this replica takes part in a leader election (then it waits for the lease to lead) */
    public Leadership(BooleanSupplier elected) {
        this.elected = elected;
    }

    @Inject
    Leadership(Instance<QuarkusConfigurationService> configuration) {
        this(() -> configuration.get().getLeaderElectionConfiguration().isPresent());
    }

    /** The only replica: it leads from the start. */
    public static Leadership sole() {
        return new Leadership(() -> false);
    }

    public boolean leading() {
        Boolean now = leading;
        if (now == null) {
            synchronized (this) {
                if (leading == null) {
                    leading = !elected.getAsBoolean();
                }
                now = leading;
            }
        }
        return now;
    }

    /** Runs {@code action} each time this replica becomes the leader (not when it leads from the start). */
    public void onTakeover(Runnable action) {
        takeovers.add(action);
    }

    /** For the lease: this replica leads from when it acquires it until it loses it. */
    public LeaderCallbacks callbacks() {
        return new LeaderCallbacks(this::started, this::stopped, identity -> {
        });
    }

    // Set under the lock that leading() decides its first answer under: a first leading() that read null just before the
    // lease was won would otherwise overwrite this true with its "not yet" and the leader would never act.
    void started() {
        synchronized (this) {
            leading = true;
        }
        takeovers.forEach(Runnable::run);
    }

    synchronized void stopped() {
        leading = false;
    }
}
