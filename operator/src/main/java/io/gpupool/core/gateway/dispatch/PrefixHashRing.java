package io.gpupool.core.gateway.dispatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * The hash ring of consistent hashing with bounded loads (CHWBL), as KubeAI's PrefixHash: every replica owns
 * {@code replication} points of a 64-bit ring; a request's prefix hashes to a point, and the replicas are offered in
 * ring order from there, so requests that share a prefix (a system prompt) go to the same replica, whose engine has
 * that prefix cached, until it carries more than its bounded share of the load. Adding or removing a replica moves
 * only the prefixes next to its points.
 */
final class PrefixHashRing {

    /** Points per replica: KubeAI's default replication. */
    static final int REPLICATION = 256;

    private long[] points = new long[0];
    private String[] owners = new String[0];

    /** Rebuilds the ring for these replicas (the set changes rarely: when pods come and go). */
    void rebuild(Collection<String> replicas) {
        List<long[]> entries = new ArrayList<>();
        List<String> ids = new ArrayList<>(replicas);
        for (int r = 0; r < ids.size(); r++) {
            for (int i = 0; i < REPLICATION; i++) {
                entries.add(new long[] { hash(ids.get(r) + "#" + i), r });
            }
        }
        entries.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        points = new long[entries.size()];
        owners = new String[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            points[i] = entries.get(i)[0];
            owners[i] = ids.get((int) entries.get(i)[1]);
        }
    }

    boolean isEmpty() {
        return points.length == 0;
    }

    int size() {
        return points.length;
    }

    /** Index of the first point at or after the key's hash (wrapping around). */
    int start(CharSequence key) {
        long h = hash(key);
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(points[mid], h) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == points.length ? 0 : lo;
    }

    /** The replica owning the i-th point after {@code start}. */
    String ownerAt(int start, int i) {
        return owners[(start + i) % owners.length];
    }

    /** 64-bit FNV-1a over the UTF-16 code units, then MurmurHash3's finalizer to spread nearby inputs. */
    static long hash(CharSequence s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            h ^= c & 0xff;
            h *= 0x100000001b3L;
            h ^= c >>> 8;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public String toString() {
        return "PrefixHashRing" + Arrays.toString(new int[] { points.length });
    }
}
