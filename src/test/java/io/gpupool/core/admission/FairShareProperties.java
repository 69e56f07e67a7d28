package io.gpupool.core.admission;

import static io.gpupool.core.testing.Invariants.count;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.gpupool.core.fairshare.ClassAccount;
import io.gpupool.core.fairshare.QuotaAccounting;
import io.gpupool.core.fairshare.QuotaBook;
import io.gpupool.core.fairshare.QuotaReport;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Invariants;
import io.gpupool.core.testing.OperatorLoop;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Random pools and random event sequences (submit, scale, delete, node join, leave, cordon, uncordon), each cycle's
 * result applied the way the operator applies it: removed replicas drain for one cycle, then their pods are gone.
 * After the events the pool runs on without events until it settles.
 */
class FairShareProperties {

    static final String[] CLASSES = { "c0", "c1", "c2" };
    static final long[] NODE_MEMORY = { 24576, 49152, 81920 };
    static final long[] WORKLOAD_MEMORY = { 0, 30000, 60000 };
    static final int SETTLE_LIMIT = 60;

    record NodeSpec(int org, int cls, int gpus, int memory) {
    }

    record OrgSpec(int weight, List<Integer> nominal, List<Integer> borrow, List<Integer> lend) {
    }

    record PoolSpec(List<Integer> values, List<NodeSpec> nodes, List<OrgSpec> orgs, boolean contributionWeighted,
            int reserve, boolean reclaim) {
    }

    /** Indexes are taken modulo what exists when the event happens. */
    record Event(int kind, int a, int b, int c, int d, int e, NodeSpec node) {
    }

    record Scenario(PoolSpec pool, List<Event> events) {
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<NodeSpec> node = Combinators.combine(Arbitraries.integers().between(0, 4),
                Arbitraries.of(-1, 0, 0, 0, 1, 1, 2), Arbitraries.integers().between(1, 8),
                Arbitraries.integers().between(0, 2)).as(NodeSpec::new);
        Arbitrary<Integer> limit = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(-1)), net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 6)));
        Arbitrary<Integer> spec = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(0)), net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(1, 6)));
        Arbitrary<OrgSpec> org = Combinators.combine(Arbitraries.of(0, 1, 1, 1, 2, 3),
                spec.list().ofSize(3), limit.list().ofSize(3), limit.list().ofSize(3)).as(OrgSpec::new);
        Arbitrary<PoolSpec> pool = Combinators.combine(Arbitraries.of(1, 2, 4).list().ofMinSize(1).ofMaxSize(3),
                node.list().ofMinSize(0).ofMaxSize(7), org.list().ofMinSize(1).ofMaxSize(4),
                Arbitraries.of(true, true, false), Arbitraries.of(0, 0, 10, 50),
                Arbitraries.of(true, true, true, false)).as(PoolSpec::new);
        Arbitrary<Integer> kind = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 2)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(3)), net.jqwik.api.Tuple.of(1, Arbitraries.just(4)),
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(5, 8)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(9)));
        Arbitrary<Event> event = Combinators.combine(kind, Arbitraries.integers().between(0, 20),
                Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 7),
                Arbitraries.of(0, 0, 0, 1, 2), Arbitraries.integers().between(0, 3), node).as(Event::new);
        return Combinators.combine(pool, event.list().ofMinSize(1).ofMaxSize(18)).as(Scenario::new);
    }

    /** Few organizations that own every node and ask for more than there is: reclaim and preemption all the time. */
    @Provide
    Arbitrary<Scenario> contended() {
        Arbitrary<NodeSpec> node = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.of(0, 0, 1), Arbitraries.integers().between(2, 8), Arbitraries.just(2)).as(NodeSpec::new);
        Arbitrary<Integer> limit = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, Arbitraries.just(-1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 6)));
        Arbitrary<OrgSpec> org = Combinators.combine(Arbitraries.of(0, 1, 1, 2), Arbitraries.just(List.of(0, 0, 0)),
                limit.list().ofSize(3), limit.list().ofSize(3)).as(OrgSpec::new);
        Arbitrary<PoolSpec> pool = Combinators.combine(Arbitraries.of(1, 2).list().ofMinSize(1).ofMaxSize(2),
                node.list().ofMinSize(1).ofMaxSize(5), org.list().ofSize(3), Arbitraries.just(true),
                Arbitraries.of(0, 0, 25), Arbitraries.just(true)).as(PoolSpec::new);
        Arbitrary<Integer> kind = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.integers().between(0, 2)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(3)), net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(5, 8)),
                net.jqwik.api.Tuple.of(4, Arbitraries.just(9)));
        Arbitrary<Event> event = Combinators.combine(kind, Arbitraries.integers().between(0, 20),
                Arbitraries.integers().between(0, 5), Arbitraries.of(0, 0, 1, 2, 3), Arbitraries.just(0),
                Arbitraries.integers().between(0, 3), node).as(Event::new);
        return Combinators.combine(pool, event.list().ofMinSize(2).ofMaxSize(16)).as(Scenario::new);
    }

    @Property(tries = 800)
    void contendedPoolsStaySafeAndSettle(@ForAll("contended") Scenario scenario) {
        fairShareCyclesStaySafeAndSettle(scenario);
    }

    @Property(tries = 800)
    void fairShareCyclesStaySafeAndSettle(@ForAll("scenarios") Scenario scenario) {
        Sim sim = new Sim(scenario.pool());
        FairShareAdmission engine = new FairShareAdmission();
        for (Event e : scenario.events()) {
            sim.step(engine);
            sim.apply(e);
        }
        sim.settle(engine);
        Statistics.label("evictions").collect(sim.evictions == 0 ? "none" : sim.evictions < 3 ? "1-2" : "3+");
        Statistics.label("borrowing when settled").collect(sim.borrowingWhenSettled);
        if (sim.snapshot.policy().reclaim()) {
            sim.noOrganizationBelowNominalWaitsWhileAnotherBorrows(engine);
        }
    }

    @Property(tries = 200)
    void firstComeResultsAreSafeAndAccountable(@ForAll("scenarios") Scenario scenario) {
        Sim sim = new Sim(scenario.pool());
        FirstComeAdmission engine = new FirstComeAdmission();
        for (Event e : scenario.events()) {
            CycleResult r = engine.cycle(sim.snapshot);
            Invariants.everyReplicaFits(sim.snapshot, r);
            Sim.reportIsConsistent(sim.snapshot, r);
            sim.snapshot = OperatorLoop.apply(sim.snapshot, r, true);
            sim.apply(e);
        }
    }

    /** The pool under test and what happened to it. */
    static final class Sim {
        PoolSnapshot snapshot;
        int nodeCounter;
        int workloadCounter;
        long clock = 1;
        int evictions;
        boolean borrowingWhenSettled;

        Sim(PoolSpec spec) {
            List<GpuClassDef> classes = new ArrayList<>();
            for (int c = 0; c < spec.values().size(); c++) {
                classes.add(new GpuClassDef(CLASSES[c], List.of(), 0, spec.values().get(c)));
            }
            List<OrgQuota> orgs = new ArrayList<>();
            for (int o = 0; o < spec.orgs().size(); o++) {
                OrgSpec os = spec.orgs().get(o);
                orgs.add(new OrgQuota("o" + o, os.weight(), perClass(os.nominal(), classes.size(), 0),
                        perClass(os.borrow(), classes.size(), -1), perClass(os.lend(), classes.size(), -1)));
            }
            List<PoolNode> nodes = new ArrayList<>();
            snapshot = new PoolSnapshot(classes, nodes, orgs, List.of(),
                    new PoolPolicy(spec.contributionWeighted(), spec.reserve(), spec.reclaim()));
            for (NodeSpec n : spec.nodes()) {
                nodes.add(node(n));
            }
            snapshot = new PoolSnapshot(classes, List.copyOf(nodes), orgs, List.of(), snapshot.policy());
        }

        private static Map<String, Integer> perClass(List<Integer> values, int classes, int absent) {
            Map<String, Integer> m = new HashMap<>();
            for (int c = 0; c < classes; c++) {
                if (values.get(c) != absent) {
                    m.put(CLASSES[c], values.get(c));
                }
            }
            return m;
        }

        private PoolNode node(NodeSpec n) {
            int orgs = snapshot.organizations().size();
            String org = n.org() < orgs ? "o" + n.org() : (n.org() == 4 ? null : "stranger");
            String cls = n.cls() < 0 || n.cls() >= snapshot.classes().size() ? null : CLASSES[n.cls()];
            return new PoolNode(new NodeKey("c", "n" + nodeCounter++), org, cls, NODE_MEMORY[n.memory()], n.gpus(),
                    NodeState.SCHEDULABLE);
        }

        /** One cycle with all checks; its result is applied, and the pods that were draining are gone after it. */
        CycleResult step(AdmissionEngine engine) {
            PoolSnapshot s = snapshot;
            CycleResult r = engine.cycle(s);
            Invariants.all(s, r);
            reportIsConsistent(s, r);
            evictionsAreJustified(s, r);
            evictions += r.evictions().size();
            snapshot = OperatorLoop.apply(s, r, true);
            return r;
        }

        void apply(Event e) {
            List<Workload> ws = new ArrayList<>(snapshot.workloads());
            List<PoolNode> nodes = new ArrayList<>(snapshot.nodes());
            int orgs = snapshot.organizations().size();
            switch (e.kind()) {
                case 0, 1, 2 -> {
                    int org = e.a() % (orgs + 1);
                    String orgName = org < orgs ? "o" + org : "newcomer";
                    List<String> allowed = new ArrayList<>();
                    for (int c = 0; c < CLASSES.length; c++) {
                        if ((e.c() & (1 << c)) != 0) {
                            allowed.add(CLASSES[c]);
                        }
                    }
                    Workload w = new Workload(new WorkloadId(orgName, "w" + workloadCounter++), orgName, 1 + e.e(),
                            WORKLOAD_MEMORY[e.d()], allowed, 1 + e.b(), e.a() % 3, e.kind() == 2 && e.b() % 2 == 0,
                            clock++, false, List.of(), List.of());
                    // Some autoscaled ones: replicas above half of them are elastic.
                    ws.add(e.kind() == 1 && e.b() % 2 == 1 ? w.withGuaranteedReplicas((1 + e.b()) / 2) : w);
                }
                case 3 -> {
                    if (!ws.isEmpty()) {
                        int i = e.a() % ws.size();
                        ws.set(i, OperatorLoop.withDesired(ws.get(i), e.b()));
                    }
                }
                case 4 -> {
                    if (!ws.isEmpty()) {
                        ws.remove(e.a() % ws.size());
                    }
                }
                case 5 -> nodes.add(node(e.node()));
                case 6, 7, 8 -> {
                    if (!nodes.isEmpty()) {
                        int i = e.a() % nodes.size();
                        PoolNode n = nodes.get(i);
                        NodeState state = e.kind() == 6 ? NodeState.GONE
                                : e.kind() == 7 ? (e.b() % 2 == 0 ? NodeState.NOT_READY : NodeState.WITHDRAWING)
                                : NodeState.SCHEDULABLE;
                        if (n.state() != NodeState.GONE) {
                            nodes.set(i, new PoolNode(n.key(), n.organization(), n.gpuClass(), n.memoryMiB(),
                                    n.gpus(), state));
                        }
                    }
                }
                default -> {
                }
            }
            snapshot = new PoolSnapshot(snapshot.classes(), List.copyOf(nodes), snapshot.organizations(),
                    List.copyOf(ws), snapshot.policy());
        }

        /**
         * Runs cycles without events until nothing changes: no eviction, nothing draining, the same assignments. The
         * pool must get there, and must never come back to a state it was in (no preemption loop), and no two
         * organizations may evict each other back and forth.
         */
        void settle(AdmissionEngine engine) {
            Set<Object> seen = new HashSet<>();
            List<List<String>> cross = new ArrayList<>();
            for (int step = 0; step < SETTLE_LIMIT; step++) {
                PoolSnapshot s = snapshot;
                assertThat(seen.add(state(s))).as("state repeats after %d quiet cycles", step).isTrue();
                CycleResult r = step(engine);
                for (Eviction e : r.evictions()) {
                    String victim = org(s, e.victim());
                    String preemptor = org(s, e.preemptor());
                    if (!victim.equals(preemptor)) {
                        cross.add(List.of(preemptor, victim, e.node().toString()));
                    }
                }
                if (r.evictions().isEmpty() && r.claims().isEmpty() && noDraining(s) && sameAssignments(s, r)) {
                    snapshot = s;
                    borrowingWhenSettled = QuotaAccounting.report(s, r).organizations().stream()
                            .anyMatch(o -> o.weightedShare() > 0);
                    noPingPong(cross);
                    return;
                }
            }
            throw new AssertionError("the pool did not settle within " + SETTLE_LIMIT + " quiet cycles");
        }

        private static void noPingPong(List<List<String>> cross) {
            Map<List<String>, Integer> lastDirection = new HashMap<>();
            Map<List<String>, Integer> switches = new HashMap<>();
            for (List<String> e : cross) {
                String a = e.get(0);
                String b = e.get(1);
                List<String> pair = a.compareTo(b) < 0 ? List.of(a, b) : List.of(b, a);
                int direction = a.compareTo(b) < 0 ? 1 : -1;
                Integer last = lastDirection.put(pair, direction);
                if (last != null && last != direction) {
                    switches.merge(pair, 1, Integer::sum);
                }
            }
            assertThat(switches.values()).as("organizations evicting each other back and forth: %s", cross)
                    .allMatch(n -> n < 2);
        }

        /**
         * Once settled, an organization that waits with a replica within its nominal quota is not kept out by a
         * borrower: on every node that could hold the replica, neither the free GPUs nor the free GPUs plus one
         * borrowed replica of another organization are enough.
         */
        void noOrganizationBelowNominalWaitsWhileAnotherBorrows(AdmissionEngine engine) {
            PoolSnapshot s = snapshot;
            CycleResult r = engine.cycle(s);
            QuotaReport report = QuotaAccounting.report(s, r);
            Map<NodeKey, Integer> free = new HashMap<>();
            for (PoolNode n : s.nodes()) {
                free.put(n.key(), n.gpus());
            }
            for (Workload w : s.workloads()) {
                for (Assignment a : w.assigned()) {
                    free.merge(a.node(), -a.replicas() * w.gpusPerReplica(), Integer::sum);
                }
            }
            for (Workload w : s.workloads()) {
                PendingReason why = r.pending().get(w.id());
                // Elastic replicas never reclaim: a workload that only lacks elastic ones may wait.
                if (why == null || w.shared() || w.frozen()
                        || count(r.assignments().get(w.id())) >= w.guaranteedReplicas()) {
                    continue;
                }
                int k = w.gpusPerReplica();
                for (PoolNode n : s.nodes()) {
                    if (!n.takesNewReplicas() || !NodeFit.matches(w, n)) {
                        continue;
                    }
                    ClassAccount mine = report.organization(orgName(w)).gpuClass(n.gpuClass());
                    if (mine.used() - mine.draining() - mine.fromCommons() + k > mine.nominal()) {
                        continue;
                    }
                    assertThat(free.get(n.key())).as("free GPUs on %s for waiting %s", n.key(), w.id()).isLessThan(k);
                    for (Workload v : s.workloads()) {
                        if (v.shared() || orgName(v).equals(orgName(w))) {
                            continue;
                        }
                        ClassAccount theirs = report.organization(orgName(v)).gpuClass(n.gpuClass());
                        if (theirs.borrowed() > 0 && Invariants.count(v.assigned(), n.key()) > 0) {
                            assertThat(free.get(n.key()) + v.gpusPerReplica())
                                    .as("%s (org %s, nominal %s) waits while %s of org %s borrows on %s", w.id(),
                                            orgName(w), mine, v.id(), orgName(v), n.key())
                                    .isLessThan(k);
                        }
                    }
                }
            }
        }

        /**
         * Cross-organization evictions only take borrowed replicas: the victim's organization was above nominal quota
         * in the class before it lost them (its running usage after the cycle plus what it lost; replicas placed for
         * it in the same cycle count, e.g. a claim honoured first). Within one organization only lower priority, or
         * elastic replicas.
         */
        static void evictionsAreJustified(PoolSnapshot s, CycleResult r) {
            if (r.evictions().isEmpty()) {
                return;
            }
            Map<WorkloadId, Workload> byId = new HashMap<>();
            for (Workload w : s.workloads()) {
                byId.put(w.id(), w);
            }
            QuotaReport after = QuotaAccounting.report(s, r);
            Map<NodeKey, PoolNode> nodes = new HashMap<>();
            for (PoolNode n : s.nodes()) {
                nodes.put(n.key(), n);
            }
            Map<List<String>, Integer> lost = new HashMap<>();
            for (Eviction e : r.evictions()) {
                lost.merge(List.of(orgName(byId.get(e.victim())), nodes.get(e.node()).gpuClass()),
                        e.replicas() * byId.get(e.victim()).gpusPerReplica(), Integer::sum);
            }
            assertThat(s.policy().reclaim()).as("evictions although reclaim is off").isTrue();
            for (Eviction e : r.evictions()) {
                Workload victim = byId.get(e.victim());
                Workload preemptor = byId.get(e.preemptor());
                assertThat(r.pending().get(e.preemptor()).reason()).isEqualTo(PendingReason.PREEMPTING);
                if (orgName(victim).equals(orgName(preemptor)) && victim.priority() >= preemptor.priority()) {
                    // Only elastic replicas yield to a replica of the same organization and no lower priority.
                    assertThat(victim.elastic(victim.assignedReplicas())).as("elastic replicas of %s", victim.id())
                            .isGreaterThanOrEqualTo(e.replicas());
                    assertThat(e.reason()).startsWith("an elastic replica (above minReplicas) given back to "
                            + preemptor.id());
                } else if (orgName(victim).equals(orgName(preemptor))) {
                    assertThat(e.reason()).startsWith("preempted by " + preemptor.id());
                } else {
                    String cls = nodes.get(e.node()).gpuClass();
                    ClassAccount a = after.organization(orgName(victim)).gpuClass(cls);
                    int running = a.used() - a.draining() - a.fromCommons();
                    assertThat(running + lost.get(List.of(orgName(victim), cls))).as("victim org above nominal: %s", a)
                            .isGreaterThan(a.nominal());
                    assertThat(e.reason()).startsWith("reclaimed by org " + orgName(preemptor) + " for " + preemptor.id() + ": ");
                }
            }
        }

        /** The accounting adds up whatever the engine. */
        static void reportIsConsistent(PoolSnapshot s, CycleResult r) {
            QuotaReport report = QuotaAccounting.report(s, r);
            QuotaBook book = QuotaBook.of(s);
            for (int c = 0; c < book.classCount(); c++) {
                String cls = book.className(c);
                int used = 0;
                int borrowed = 0;
                int lent = 0;
                int fromCommons = 0;
                int contributed = 0;
                for (var o : report.organizations()) {
                    ClassAccount a = o.gpuClass(cls);
                    int running = a.used() - a.draining();
                    assertThat(a.borrowed()).isEqualTo(Math.max(0, running - a.fromCommons() - a.nominal()));
                    assertThat(a.draining()).isBetween(0, a.used());
                    assertThat(a.lent()).isBetween(0, Math.max(0, a.nominal() - (running - a.fromCommons())));
                    assertThat(a.nominal()).isGreaterThanOrEqualTo(0);
                    if (a.borrowed() == 0) {
                        assertThat(o.weightedShare()).isGreaterThanOrEqualTo(0);
                    } else {
                        assertThat(o.weightedShare()).isPositive();
                    }
                    used += a.used();
                    borrowed += a.borrowed();
                    lent += a.lent();
                    fromCommons += a.fromCommons();
                    contributed += a.contributed();
                }
                var pool = report.gpuClass(cls);
                assertThat(contributed).isLessThanOrEqualTo(pool.capacity());
                assertThat(fromCommons).isEqualTo(pool.commonsUsed()).isLessThanOrEqualTo(pool.commons());
                assertThat(used).isEqualTo(pool.used());
                assertThat(lent).isLessThanOrEqualTo(borrowed);
                assertThat(pool.idle()).isBetween(0, pool.capacity());
                if (s.policy().contributionWeighted()) {
                    int contributedParts = 0;
                    for (OrgQuota q : s.organizations()) {
                        contributedParts += QuotaBook.contributorShare(
                                report.organization(q.name()).gpuClass(cls).contributed(),
                                s.policy().commonsReservePercent());
                    }
                    assertThat(contributedParts).isLessThanOrEqualTo(pool.capacity());
                }
            }
        }

        private static Object state(PoolSnapshot s) {
            Map<WorkloadId, List<Object>> m = new TreeMap<>();
            for (Workload w : s.workloads()) {
                m.put(w.id(), List.of(norm(w.assigned()), norm(w.draining()), norm(w.claimed())));
            }
            return m;
        }

        private static Map<NodeKey, Integer> norm(List<Assignment> as) {
            Map<NodeKey, Integer> m = new TreeMap<>();
            for (Assignment a : as) {
                m.merge(a.node(), a.replicas(), Integer::sum);
            }
            return m;
        }

        private static boolean noDraining(PoolSnapshot s) {
            return s.workloads().stream().allMatch(w -> w.draining().isEmpty());
        }

        private static boolean sameAssignments(PoolSnapshot s, CycleResult r) {
            for (Workload w : s.workloads()) {
                if (!norm(w.assigned()).equals(norm(r.assignments().get(w.id())))) {
                    return false;
                }
            }
            return true;
        }

        private static String org(PoolSnapshot s, WorkloadId id) {
            for (Workload w : s.workloads()) {
                if (w.id().equals(id)) {
                    return orgName(w);
                }
            }
            throw new AssertionError("no workload " + id);
        }

        private static String orgName(Workload w) {
            return w.organization() == null ? "" : w.organization();
        }
    }
}
