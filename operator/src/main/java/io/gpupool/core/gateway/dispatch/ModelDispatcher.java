package io.gpupool.core.gateway.dispatch;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Decides, for one served model, which request goes to which replica and when: the whole of the gateway's routing and
 * queuing, as plain Java over an injected clock (the gateway's Vert.x layer only applies what it says).
 * <ul>
 * <li><b>Slots.</b> A replica takes at most its capacity (maxInFlightPerReplica) at once; requests beyond wait.</li>
 * <li><b>Fair queuing.</b> Waiting requests are queued per organization; when a slot frees, the next request comes
 * from the backlogged organization with the smallest virtual token counter ({@link VirtualTokenCounters}: tokens served
 * divided by its quota weight, VTC). A request is charged its estimated tokens when it is sent and corrected with the
 * engine's usage when it ends. Each organization's queue is bounded in length, so a flood fills only its own.</li>
 * <li><b>Routing.</b> Among replicas with a free slot, prefix affinity by consistent hashing with bounded loads
 * ({@link PrefixHashRing}, as KubeAI's PrefixHash: a replica whose load exceeds 1.25 × the mean is passed over), and
 * the least loaded replica (in-flight / capacity) when the request has no prefix or every affine replica is
 * overloaded.</li>
 * <li><b>Retries.</b> A request that never reached its replica goes back to the head of its queue once, never to that
 * replica again, and the replica gets no new request for a moment.</li>
 * </ul>
 * Thread-safe: every method holds the dispatcher's lock briefly; grants to requests that waited are handed to the
 * listener after the lock is released.
 */
public final class ModelDispatcher {

    /** A replica above this multiple of the mean load is passed over by prefix affinity (KubeAI's 125 %). */
    static final double LOAD_FACTOR = 1.25;
    /** How long a replica that could not be reached gets no new request. */
    static final long UNREACHABLE_COOLDOWN_MILLIS = 2000;
    static final int MAX_RETRY_AFTER_SECONDS = 60;
    /** Weight of the newest sample in the running means (completion tokens, service time). */
    private static final double EWMA = 0.05;

    private final Clock clock;
    private final Consumer<Grant> listener;
    private volatile QueueLimits limits;
    /** Hold requests while there is no replica (the model autoscales: one is on its way) instead of refusing them. */
    private volatile boolean holdAtZero;
    /** In-flight plus queued requests over time, for the autoscaler. */
    private final LoadWindow load;

    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final List<Replica> order = new ArrayList<>();
    private final PrefixHashRing ring = new PrefixHashRing();
    private final VirtualTokenCounters counters = new VirtualTokenCounters();
    /** Non-empty queues only, per organization. */
    private final Map<String, ArrayDeque<Ticket>> queues = new HashMap<>();
    private final Map<String, Integer> running = new HashMap<>();
    /** Requests sent and not ended: the replica that holds their slot, and when they were sent. */
    private final Map<Ticket, Sent> sent = new HashMap<>();
    private int queued;
    private int inFlight;
    private int capacity;
    private int cursor;
    private double meanCompletionTokens = -1;
    private double meanServiceMillis = -1;

    private record Sent(Replica replica, long atMillis) {
    }

    private static final class Replica {
        ReplicaSpec spec;
        int inFlight;
        long unreachableUntil;

        Replica(ReplicaSpec spec) {
            this.spec = spec;
        }

        double load() {
            return (double) inFlight / spec.capacity();
        }
    }

    /**
     * @param listener receives the grants of requests that waited (called outside the lock, on the thread that freed
     *                 the slot: hand the work over, do not do it there)
     */
    public ModelDispatcher(Clock clock, QueueLimits limits, Consumer<Grant> listener) {
        this.clock = clock;
        this.limits = limits;
        this.listener = listener;
        this.load = new LoadWindow(limits.loadWindow().toMillis(), clock.millis());
    }

    /** Whether requests are held while the model has no replica (it autoscales) rather than refused at once. */
    public void holdAtZero(boolean hold) {
        this.holdAtZero = hold;
    }

    public void limits(QueueLimits limits) {
        this.limits = limits;
    }

    /** Replaces the set of replicas; replicas that stay keep their in-flight requests. */
    public void replicas(List<ReplicaSpec> specs) {
        List<Grant> grants;
        synchronized (this) {
            Set<String> before = new HashSet<>(replicas.keySet());
            Map<String, Replica> next = new LinkedHashMap<>();
            for (ReplicaSpec s : specs) {
                if (s.capacity() <= 0) {
                    continue;
                }
                Replica r = replicas.get(s.id());
                if (r == null) {
                    r = new Replica(s);
                } else {
                    r.spec = s;
                }
                next.put(s.id(), r);
            }
            for (Map.Entry<String, Replica> gone : replicas.entrySet()) {
                if (!next.containsKey(gone.getKey())) {
                    inFlight -= gone.getValue().inFlight;
                }
            }
            replicas.clear();
            replicas.putAll(next);
            order.clear();
            order.addAll(next.values());
            capacity = order.stream().mapToInt(r -> r.spec.capacity()).sum();
            if (!before.equals(replicas.keySet())) {
                ring.rebuild(replicas.keySet());
            }
            grants = dispatch();
            sample();
        }
        grants.forEach(listener);
    }

    /** Hands in a request: sent at once when a slot is free and nobody waits before it, queued, or refused. */
    public Decision submit(Ticket ticket) {
        List<Grant> grants;
        Decision decision;
        synchronized (this) {
            if (replicas.isEmpty() && !holdAtZero) {
                return new Decision.Rejected(Decision.Reason.NO_REPLICA, 5);
            }
            ArrayDeque<Ticket> queue = queues.get(ticket.organization());
            if (queue != null && queue.size() >= limits.maxQueuedPerOrganization()) {
                return new Decision.Rejected(Decision.Reason.QUEUE_FULL, retryAfterSeconds(queue.size()));
            }
            ticket.enqueuedAtMillis = clock.millis();
            enqueue(ticket, false);
            grants = dispatch();
            decision = extract(ticket, grants);
            if (decision instanceof Decision.Queued && replicas.isEmpty()) {
                decision = new Decision.Held();
            }
            sample();
        }
        grants.forEach(listener);
        return decision;
    }

    /**
     * The request ended (answered, failed after reaching the engine, or cancelled by its client): frees its slot and
     * corrects its charge with what the engine reported.
     */
    public void complete(Grant grant, long promptTokens, long completionTokens) {
        List<Grant> grants;
        synchronized (this) {
            Sent was = release(grant);
            if (was == null) {
                return; // already ended
            }
            Ticket t = grant.ticket();
            counters.charge(t.organization(), promptTokens + completionTokens - t.charged, t.weight());
            meanCompletionTokens = meanCompletionTokens < 0 ? completionTokens
                    : meanCompletionTokens + EWMA * (completionTokens - meanCompletionTokens);
            long service = Math.max(0, clock.millis() - was.atMillis());
            meanServiceMillis = meanServiceMillis < 0 ? service : meanServiceMillis + EWMA * (service - meanServiceMillis);
            forgetIfIdle(t.organization());
            grants = dispatch();
            sample();
        }
        grants.forEach(listener);
    }

    /**
     * The request never reached its replica (nothing was generated): it goes back to the head of its organization's
     * queue, never to that replica again, and the replica takes no new request for a moment.
     *
     * @return where the request is now: dispatched to another replica, queued, or refused when no other replica exists
     */
    public Decision retry(Grant failed) {
        List<Grant> grants;
        Decision decision;
        synchronized (this) {
            if (release(failed) == null) {
                return new Decision.Rejected(Decision.Reason.NO_REPLICA, 5);
            }
            Ticket t = failed.ticket();
            counters.charge(t.organization(), -t.charged, t.weight());
            t.charged = 0;
            Replica r = replicas.get(failed.replicaId());
            if (r != null) {
                r.unreachableUntil = clock.millis() + UNREACHABLE_COOLDOWN_MILLIS;
            }
            t.excluded.add(failed.replicaId());
            if (t.excluded.containsAll(replicas.keySet())) {
                forgetIfIdle(t.organization());
                return new Decision.Rejected(Decision.Reason.NO_REPLICA, 5);
            }
            enqueue(t, true);
            grants = dispatch();
            decision = extract(t, grants);
            sample();
        }
        grants.forEach(listener);
        return decision;
    }

    /**
     * Takes a waiting request out of its queue (it timed out, or its client went away).
     *
     * @return false when it was not waiting (already dispatched, or never queued)
     */
    public synchronized boolean cancel(Ticket ticket) {
        if (!ticket.waiting) {
            return false;
        }
        ArrayDeque<Ticket> queue = queues.get(ticket.organization());
        if (queue == null || !queue.remove(ticket)) {
            return false;
        }
        ticket.waiting = false;
        queued--;
        if (queue.isEmpty()) {
            queues.remove(ticket.organization());
            counters.leave(ticket.organization());
        }
        forgetIfIdle(ticket.organization());
        sample();
        return true;
    }

    /** Seconds a client should wait before trying again, for a request that had {@code ahead} requests before it. */
    public synchronized int retryAfterSeconds(int ahead) {
        double service = meanServiceMillis < 0 ? 1000 : meanServiceMillis;
        double seconds = Math.ceil(ahead * service / Math.max(1, capacity) / 1000.0);
        return (int) Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, seconds));
    }

    public synchronized Stats stats() {
        Map<String, Integer> waiting = new HashMap<>();
        queues.forEach((org, q) -> waiting.put(org, q.size()));
        return new Stats(replicas.size(), capacity, inFlight, queued, Map.copyOf(waiting));
    }

    /**
     * The model's load as the autoscaler reads it: in-flight plus queued requests averaged over the load window, and
     * the requests held because there is no replica.
     */
    public synchronized Load load() {
        return new Load(load.mean(clock.millis()), replicas.isEmpty() ? queued : 0);
    }

    /**
     * @param mean in-flight plus queued requests, averaged over the load window
     * @param held requests waiting while the model has no replica
     */
    public record Load(double mean, int held) {
    }

    /** The virtual token counter of an organization (tokens served / weight), for tests and metrics. */
    public synchronized double counter(String organization) {
        return counters.of(organization);
    }

    /**
     * @param replicas replicas (or replica sets) known
     * @param capacity slots over all of them
     * @param inFlight requests sent and not ended
     * @param queued   requests waiting
     * @param waiting  requests waiting, per organization (only organizations that have some)
     */
    public record Stats(int replicas, int capacity, int inFlight, int queued, Map<String, Integer> waiting) {
    }

    /** Notes the load after a change (under the lock). */
    private void sample() {
        load.set(clock.millis(), inFlight + queued);
    }

    private void enqueue(Ticket t, boolean atHead) {
        ArrayDeque<Ticket> queue = queues.get(t.organization());
        if (queue == null) {
            counters.enter(t.organization(), queues.keySet());
            queue = new ArrayDeque<>();
            queues.put(t.organization(), queue);
        }
        if (atHead) {
            queue.addFirst(t);
        } else {
            queue.addLast(t);
        }
        t.waiting = true;
        queued++;
    }

    /** Frees the slot of a request that was sent (once: a second call for the same request does nothing). */
    private Sent release(Grant grant) {
        Sent was = sent.remove(grant.ticket());
        if (was == null) {
            return null;
        }
        // A replica removed meanwhile took its in-flight count with it.
        if (replicas.get(grant.replicaId()) == was.replica()) {
            was.replica().inFlight--;
            inFlight--;
        }
        running.merge(grant.ticket().organization(), -1, Integer::sum);
        return was;
    }

    private void forgetIfIdle(String organization) {
        if (running.getOrDefault(organization, 0) <= 0 && !queues.containsKey(organization)) {
            running.remove(organization);
            if (queues.isEmpty() && running.isEmpty()) {
                // Nobody waits or runs: no counter can matter any more (a newcomer is lifted to the last one left).
                counters.retainOnly(Set.of());
            }
        }
    }

    private static Decision extract(Ticket ticket, List<Grant> grants) {
        for (int i = 0; i < grants.size(); i++) {
            if (grants.get(i).ticket() == ticket) {
                return new Decision.Dispatched(grants.remove(i));
            }
        }
        return new Decision.Queued();
    }

    /** Sends waiting requests, fairest first, while slots are free. */
    private List<Grant> dispatch() {
        List<Grant> grants = new ArrayList<>();
        Set<String> stuck = null;
        while (queued > 0 && inFlight < capacity) {
            String org = fairest(stuck);
            if (org == null) {
                break;
            }
            ArrayDeque<Ticket> queue = queues.get(org);
            Ticket t = queue.peekFirst();
            Replica r = choose(t);
            if (r == null) {
                // Only replicas this request may not use have room: let the next organization try.
                if (stuck == null) {
                    stuck = new HashSet<>();
                }
                stuck.add(org);
                continue;
            }
            queue.pollFirst();
            queued--;
            t.waiting = false;
            if (queue.isEmpty()) {
                queues.remove(org);
                counters.leave(org);
            }
            r.inFlight++;
            inFlight++;
            running.merge(org, 1, Integer::sum);
            t.charged = t.promptTokens() + expectedCompletion(t);
            counters.charge(org, t.charged, t.weight());
            sent.put(t, new Sent(r, clock.millis()));
            grants.add(new Grant(t, r.spec.id(), r.spec.cluster(), r.spec.handle()));
        }
        return grants;
    }

    private double expectedCompletion(Ticket t) {
        double mean = meanCompletionTokens < 0 ? 0 : meanCompletionTokens;
        return t.maxTokens() == null ? mean : Math.min(t.maxTokens(), mean);
    }

    /** The backlogged organization with the smallest counter (oldest head first on a tie). */
    private String fairest(Set<String> skip) {
        String best = null;
        double bestCounter = 0;
        long bestAge = 0;
        for (Map.Entry<String, ArrayDeque<Ticket>> e : queues.entrySet()) {
            String org = e.getKey();
            if (skip != null && skip.contains(org)) {
                continue;
            }
            double c = counters.of(org);
            long age = e.getValue().peekFirst().enqueuedAtMillis;
            if (best == null || c < bestCounter || (c == bestCounter && age < bestAge)) {
                best = org;
                bestCounter = c;
                bestAge = age;
            }
        }
        return best;
    }

    private boolean usable(Replica r, Ticket t, long now) {
        return r != null && r.inFlight < r.spec.capacity() && r.unreachableUntil <= now
                && !t.excluded.contains(r.spec.id());
    }

    /** Prefix affinity with bounded loads, else the least loaded replica with a free slot. */
    private Replica choose(Ticket t) {
        long now = clock.millis();
        String prefix = t.prefix();
        if (prefix != null && !prefix.isEmpty() && !ring.isEmpty() && replicas.size() > 1) {
            double bound = LOAD_FACTOR * (inFlight + 1.0) / capacity;
            int start = ring.start(prefix);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < ring.size() && seen.size() < replicas.size(); i++) {
                String id = ring.ownerAt(start, i);
                if (!seen.add(id)) {
                    continue;
                }
                Replica r = replicas.get(id);
                if (usable(r, t, now) && r.load() <= bound) {
                    return r;
                }
            }
        }
        Replica best = null;
        int n = order.size();
        for (int i = 0; i < n; i++) {
            Replica r = order.get((cursor + i) % n);
            if (usable(r, t, now) && (best == null || r.load() < best.load())) {
                best = r;
            }
        }
        if (best == null) {
            // Every replica that has room is cooling down after a failed connection: better try one than wait.
            for (Replica r : order) {
                if (r.inFlight < r.spec.capacity() && !t.excluded.contains(r.spec.id())
                        && (best == null || r.load() < best.load())) {
                    best = r;
                }
            }
        }
        cursor = n == 0 ? 0 : (cursor + 1) % n;
        return best;
    }
}
