package io.gpupool.tunnel.agent;

import java.util.List;
import java.util.Map;

/**
 * What an agent can serve through its tunnel: the ready serving pods of its cluster's current works (the ServingWorks
 * in its hub namespace, as it watches them), and only those.
 */
public interface ServingEndpoints {

    /**
     * A ready serving pod.
     *
     * @param pod  its name in the serving namespace
     * @param host its IP
     * @param port its serving port
     */
    record Endpoint(String pod, String host, int port) {
    }

    /** Ready pods by work name; a work that is not current has no entry. */
    Map<String, List<Endpoint>> ready();

    /** Calls {@code listener} (on any thread) whenever {@link #ready()} may have changed. */
    void onChange(Runnable listener);
}
