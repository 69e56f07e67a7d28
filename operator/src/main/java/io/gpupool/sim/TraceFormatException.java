package io.gpupool.sim;

/** A malformed trace: names the file, the line (1 = header) and the column. */
public final class TraceFormatException extends RuntimeException {

    private final String file;
    private final long line;
    private final String column;

    public TraceFormatException(String file, long line, String column, String problem) {
        super(file + ":" + line + (column == null ? "" : ", column " + column) + ": " + problem);
        this.file = file;
        this.line = line;
        this.column = column;
    }

    public String file() {
        return file;
    }

    public long line() {
        return line;
    }

    public String column() {
        return column;
    }
}
