package io.gpupool.sim;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Streams a CSV file with a header line, one row at a time (no quoting: fields may not contain commas). Blank lines
 * and lines starting with '#' are skipped. Field accessors throw {@link TraceFormatException} naming the file, the
 * line and the column.
 */
final class CsvRows implements Closeable {

    private final String file;
    private final BufferedReader in;
    private final String[] columns;
    private final int[] index;
    private final boolean[] optional;
    private long lineNo;
    private String[] fields;

    CsvRows(Path path, String... columns) {
        this.file = path.toString();
        this.columns = columns.clone();
        try {
            this.in = Files.newBufferedReader(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TraceFormatException(file, 0, null, "cannot read: " + e.getMessage());
        }
        String header = nextLine();
        if (header == null) {
            throw new TraceFormatException(file, 1, null, "empty file, expected the header " + String.join(",", columns));
        }
        Map<String, Integer> pos = new HashMap<>();
        String[] names = header.split(",", -1);
        for (int i = 0; i < names.length; i++) {
            pos.put(names[i].trim().toLowerCase(), i);
        }
        index = new int[columns.length];
        optional = new boolean[columns.length];
        for (int i = 0; i < columns.length; i++) {
            // "name?" is an optional column: absent from the header, its fields read as empty.
            optional[i] = this.columns[i].endsWith("?");
            if (optional[i]) {
                this.columns[i] = this.columns[i].substring(0, this.columns[i].length() - 1);
            }
            Integer p = pos.get(this.columns[i]);
            if (p == null && optional[i]) {
                index[i] = -1;
                continue;
            }
            if (p == null) {
                throw new TraceFormatException(file, lineNo, this.columns[i],
                        "missing column in the header (expected " + String.join(",", columns) + ")");
            }
            index[i] = p;
        }
    }

    private String nextLine() {
        try {
            String l;
            while ((l = in.readLine()) != null) {
                lineNo++;
                String t = l.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    return l;
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ":" + lineNo, e);
        }
    }

    /** Advances to the next row; false at the end of the file. */
    boolean next() {
        String l = nextLine();
        if (l == null) {
            fields = null;
            return false;
        }
        fields = l.split(",", -1);
        return true;
    }

    long line() {
        return lineNo;
    }

    String file() {
        return file;
    }

    TraceFormatException error(int col, String problem) {
        return new TraceFormatException(file, lineNo, columns[col], problem);
    }

    /** The trimmed field of column {@code col} (an index into the columns given to the constructor). */
    String text(int col) {
        int i = index[col];
        if (i < 0) {
            return "";
        }
        if (i >= fields.length && isOptional(col)) {
            return "";
        }
        if (i >= fields.length) {
            throw error(col, "missing (the row has " + fields.length + " fields)");
        }
        return fields[i].trim();
    }

    /** Optional columns (those given as "name?") may be missing from short rows too. */
    private boolean isOptional(int col) {
        return optional[col];
    }

    /** A non-negative decimal, or {@code dflt} for an empty field. */
    double decimal(int col, double dflt) {
        String s = text(col);
        if (s.isEmpty()) {
            return dflt;
        }
        try {
            double v = Double.parseDouble(s);
            if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) {
                throw error(col, "must be a non-negative number: " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(col, "not a number: '" + s + "'");
        }
    }

    String required(int col) {
        String s = text(col);
        if (s.isEmpty()) {
            throw error(col, "empty");
        }
        return s;
    }

    long nonNegativeLong(int col) {
        String s = required(col);
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw error(col, "not an integer: '" + s + "'");
        }
        if (v < 0) {
            throw error(col, "negative: " + v);
        }
        return v;
    }

    /** A non-negative integer, or -1 for an empty field. */
    long optionalLong(int col) {
        return text(col).isEmpty() ? -1 : nonNegativeLong(col);
    }

    int positiveInt(int col) {
        long v = nonNegativeLong(col);
        if (v == 0 || v > Integer.MAX_VALUE) {
            throw error(col, "must be between 1 and " + Integer.MAX_VALUE + ": " + v);
        }
        return (int) v;
    }

    int integer(int col, int dflt) {
        String s = text(col);
        if (s.isEmpty()) {
            return dflt;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw error(col, "not an integer: '" + s + "'");
        }
    }

    boolean bool(int col) {
        String s = text(col).toLowerCase();
        return switch (s) {
            case "", "false", "0", "no" -> false;
            case "true", "1", "yes" -> true;
            default -> throw error(col, "not a boolean (true/false): '" + s + "'");
        };
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
