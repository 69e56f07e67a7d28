package io.gpupool.core.classes;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import io.gpupool.core.model.GpuClassDef;

/** Finds the GpuClass of a GPU: the first class, by name, whose product globs and memory floor it satisfies. */
public final class GpuClassMatcher {

    /**
     * Compiled globs. Every admission cycle classifies every node, so compiling a glob per match cost more than the
     * rest of the classification; GpuClasses have a handful of globs, so the map stays small (cleared if it ever
     * holds more than 1,000, e.g. after many edits).
     */
    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    private GpuClassMatcher() {
    }

    /** @return the class name, or null when no class matches */
    public static String classify(String product, long memoryMiB, List<GpuClassDef> classes) {
        return classes.stream()
                .sorted(Comparator.comparing(GpuClassDef::name))
                .filter(c -> matches(c, product, memoryMiB))
                .map(GpuClassDef::name)
                .findFirst()
                .orElse(null);
    }

    public static boolean matches(GpuClassDef c, String product, long memoryMiB) {
        if (memoryMiB < c.minMemoryMiB()) {
            return false;
        }
        return c.productGlobs().isEmpty() || c.productGlobs().stream().anyMatch(g -> globMatches(g, product));
    }

    /** Case-insensitive glob with * (any run) and ? (one character); everything else is literal. */
    public static boolean globMatches(String glob, String text) {
        if (PATTERNS.size() > 1000) {
            PATTERNS.clear(); // here, not in compile(): a ConcurrentHashMap may not change inside computeIfAbsent
        }
        return PATTERNS.computeIfAbsent(glob, GpuClassMatcher::compile).matcher(text == null ? "" : text).matches();
    }

    private static Pattern compile(String glob) {
        StringBuilder re = new StringBuilder();
        for (char ch : glob.toCharArray()) {
            switch (ch) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE);
    }
}
