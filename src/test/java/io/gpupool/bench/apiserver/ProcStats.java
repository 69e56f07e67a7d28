package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** What Linux says about a process (/proc/<pid>/status and stat) and about the machine (/proc/loadavg). */
final class ProcStats {

    /** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux this runs on). */
    private static final double TICKS = 100.0;

    private ProcStats() {
    }

    /** VmRSS and VmHWM (peak RSS) in MiB; empty when the process is gone. */
    static Optional<long[]> rssMiB(long pid) {
        try {
            long rss = -1;
            long hwm = -1;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line) / 1024;
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kib(line) / 1024;
                }
            }
            return rss < 0 ? Optional.empty() : Optional.of(new long[] { rss, hwm });
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** User + system CPU seconds the process has used so far (0 when it is gone). */
    static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The 1-minute load average. */
    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    /** /proc/loadavg as it is (1, 5, 15 minutes, runnable/total tasks, last pid). */
    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** The pid of a descendant of this JVM whose command is the given binary (kube-apiserver, etcd), or -1. */
    static long descendant(String binary) {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> Path.of(c).getFileName().toString().equals(binary)).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
}
