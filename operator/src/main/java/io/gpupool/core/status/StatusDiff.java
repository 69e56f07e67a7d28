package io.gpupool.core.status;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a new status differs from the one an object has: the one comparison every status writer makes before it
 * patches (Strimzi's {@code StatusDiff}), so that a status that did not change costs no write.
 *
 * <p>
 * Statuses are plain classes with public fields. Two are the same when every public field is: values with an
 * {@code equals} of their own (strings, numbers, Fabric8 conditions, {@code Placement}, ...) by it, lists and maps
 * element by element, and other objects field by field in the same way. A field another writer owns (a GpuNode's
 * {@code lastHeartbeatTime}, which its agent writes) is named by the caller and not compared. Conditions keep their
 * {@code lastTransitionTime} unless they flip ({@link Conditions#set}), so a status rebuilt from the same facts compares
 * equal. Fields added to a status later are compared without anyone having to remember to.
 */
public final class StatusDiff {

    /** Public instance fields of a class, in declaration order. */
    private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
        @Override
        protected Field[] computeValue(Class<?> type) {
            List<Field> out = new ArrayList<>();
            for (Field f : type.getFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    out.add(f);
                }
            }
            return out.toArray(new Field[0]);
        }
    };

    /** Whether a class has an {@code equals} of its own (or inherits one other than {@link Object}'s). */
    private static final ClassValue<Boolean> VALUE_EQUALITY = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            try {
                return type.getMethod("equals", Object.class).getDeclaringClass() != Object.class;
            } catch (NoSuchMethodException e) {
                return false;
            }
        }
    };

    private StatusDiff() {
    }

    /**
     * @param ignoredFields names of top-level fields another writer owns
     * @return true when writing {@code next} over {@code previous} would change nothing this writer owns
     */
    public static boolean same(Object previous, Object next, String... ignoredFields) {
        if (previous == null || next == null) {
            return previous == next;
        }
        if (previous.getClass() != next.getClass()) {
            return false;
        }
        Set<String> ignored = Set.of(ignoredFields);
        for (Field f : FIELDS.get(previous.getClass())) {
            if (!ignored.contains(f.getName()) && !sameValue(read(f, previous), read(f, next))) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameValue(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            Iterator<?> i = x.iterator();
            Iterator<?> j = y.iterator();
            while (i.hasNext()) {
                if (!sameValue(i.next(), j.next())) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (!x.keySet().equals(y.keySet())) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!sameValue(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a.getClass() != b.getClass()) {
            return false;
        }
        if (VALUE_EQUALITY.get(a.getClass())) {
            return a.equals(b);
        }
        return same(a, b);
    }

    private static Object read(Field f, Object o) {
        try {
            return f.get(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("Status field " + f + " is not readable", e);
        }
    }
}
