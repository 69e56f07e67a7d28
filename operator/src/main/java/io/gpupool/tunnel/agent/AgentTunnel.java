package io.gpupool.tunnel.agent;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.gpupool.tunnel.Frame;
import io.gpupool.tunnel.Heads;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The agent's end of one tunnel: takes the pool's requests off the WebSocket, sends each to the serving pod it names
 * (only pods of the cluster's current works), and streams the engine's response back within the stream's window: when
 * the pool has not consumed enough, or the WebSocket's write queue is full, the agent stops reading from the engine,
 * and TCP pushes back on the engine. A reset from the pool, or the tunnel going away, resets the engine's request: the
 * engine sees its client leave and stops generating.
 *
 * <p>Everything runs on the WebSocket's event loop.
 */
final class AgentTunnel {

    private static final Logger LOG = Logger.getLogger(AgentTunnel.class);

    private final WebSocket ws;
    private final String cluster;
    private final HttpClient engines;
    private final Map<Integer, Stream> streams = new HashMap<>();
    /** Streams that stopped reading their engine because the WebSocket's write queue is full. */
    private final Set<Stream> waitingForDrain = new LinkedHashSet<>();
    private final Consumer<Frame.Hello> onHello;
    private volatile Map<String, List<ServingEndpoints.Endpoint>> endpoints = Map.of();
    private volatile long lastHeard = System.nanoTime();
    private Frame.Hello hello;
    private boolean closed;

    AgentTunnel(WebSocket ws, String cluster, HttpClient engines, Consumer<Frame.Hello> onHello) {
        this.ws = ws;
        this.cluster = cluster;
        this.engines = engines;
        this.onHello = onHello;
        ws.binaryMessageHandler(this::onMessage);
        ws.pongHandler(p -> lastHeard = System.nanoTime());
        ws.drainHandler(v -> drained());
        ws.exceptionHandler(e -> LOG.debugf("Tunnel: %s", e.getMessage()));
    }

    /** The gateway's greeting, once it arrived. */
    Frame.Hello hello() {
        return hello;
    }

    WebSocket webSocket() {
        return ws;
    }

    long silentNanos() {
        return System.nanoTime() - lastHeard;
    }

    /** Reports the ready replicas of the current works to the pool, and routes to them from now on. */
    void advertise(Map<String, List<ServingEndpoints.Endpoint>> ready) {
        endpoints = ready;
        JsonObject works = new JsonObject();
        ready.forEach((work, pods) -> {
            JsonArray names = new JsonArray();
            pods.forEach(p -> names.add(p.pod()));
            works.put(work, names);
        });
        write(Frame.json(Frame.Type.REPLICAS, new JsonObject().put("works", works)));
    }

    void sendCredentials(String token) {
        write(Frame.text(Frame.Type.CREDENTIALS, token));
    }

    /** The tunnel is gone: every engine request it carried is reset. */
    void onClosed() {
        closed = true;
        for (Stream s : List.copyOf(streams.values())) {
            s.abort();
        }
        streams.clear();
        waitingForDrain.clear();
    }

    private void write(Frame frame) {
        if (!closed) {
            ws.writeBinaryMessage(frame.encode());
        }
    }

    private void onMessage(Buffer message) {
        lastHeard = System.nanoTime();
        Frame frame;
        try {
            frame = Frame.decode(message);
            dispatch(frame);
        } catch (RuntimeException e) {
            LOG.warnf("Tunnel: the gateway sent a frame this agent cannot read (%s); reconnecting", e.getMessage());
            ws.close((short) 1002, "protocol error");
        }
    }

    private void dispatch(Frame frame) {
        switch (frame.type()) {
            case HELLO -> {
                hello = Frame.Hello.of(frame);
                onHello.accept(hello);
            }
            case REQUEST -> {
                Stream s = new Stream(frame.stream(), Heads.Request.of(frame.head()));
                streams.put(s.id, s);
                s.body.appendBuffer(frame.bodyAfterHead());
                if (frame.end()) {
                    s.startSafely();
                }
            }
            case DATA -> {
                Stream s = streams.get(frame.stream());
                if (s != null && s.request == null) {
                    s.body.appendBuffer(frame.payload());
                    if (frame.end()) {
                        s.startSafely();
                    }
                }
            }
            case WINDOW -> {
                Stream s = streams.get(frame.stream());
                if (s != null) {
                    s.credit(frame.windowIncrement());
                }
            }
            case RESET -> {
                Stream s = streams.remove(frame.stream());
                if (s != null) {
                    s.abort();
                }
            }
            default -> throw new io.gpupool.tunnel.TunnelProtocolException("the gateway may not send " + frame.type());
        }
    }

    private void drained() {
        List<Stream> waiting = List.copyOf(waitingForDrain);
        waitingForDrain.clear();
        for (Stream s : waiting) {
            s.maybeResume();
        }
    }

    /** One request: from the pool's frames to the engine, and the engine's response back. */
    private final class Stream {

        private final int id;
        private final Heads.Request head;
        private final Buffer body = Buffer.buffer();
        private HttpClientRequest request;
        private HttpClientResponse response;
        private long credit;
        private boolean done;

        Stream(int id, Heads.Request head) {
            this.id = id;
            this.head = head;
            this.credit = head.window() > 0 ? head.window() : Long.MAX_VALUE;
        }

        /** Starts the request; whatever goes wrong on this side fails this request only, never the tunnel. */
        void startSafely() {
            try {
                start();
            } catch (RuntimeException e) {
                fail(Frame.Reset.UNAVAILABLE, "the agent could not send the request: " + e.getMessage());
            }
        }

        private void start() {
            List<ServingEndpoints.Endpoint> pods = endpoints.get(head.work());
            if (pods == null) {
                fail(Frame.Reset.REFUSED, head.work() + " is not a current work of cluster " + cluster);
                return;
            }
            ServingEndpoints.Endpoint target = pods.stream().filter(p -> p.pod().equals(head.replica())).findFirst()
                    .orElse(null);
            if (target == null) {
                fail(Frame.Reset.UNAVAILABLE, "no ready replica " + head.replica() + " of " + head.work() + " in cluster "
                        + cluster);
                return;
            }
            MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(head.headers())
                    .remove(HttpHeaders.CONTENT_LENGTH);
            RequestOptions options = new RequestOptions().setMethod(head.method()).setHost(target.host())
                    .setPort(target.port()).setURI(head.path()).setHeaders(headers);
            engines.request(options).onSuccess(req -> {
                if (done) { // reset by the pool meanwhile
                    req.reset();
                    return;
                }
                request = req;
                req.send(body).onSuccess(this::respond).onFailure(e -> fail(Frame.Reset.UNAVAILABLE,
                        "replica " + target.pod() + ": " + e.getMessage()));
            }).onFailure(e -> fail(Frame.Reset.UNAVAILABLE, "replica " + target.pod() + ": " + e.getMessage()));
        }

        private void respond(HttpClientResponse r) {
            if (done) {
                r.request().reset();
                return;
            }
            response = r;
            write(new Frame(Frame.Type.RESPONSE, id, false, Frame.headAndBody(
                    new Heads.Response(r.statusCode(), r.headers()).toJson().toBuffer(), Buffer.buffer(), 0, 0)));
            r.handler(this::forward);
            r.exceptionHandler(e -> fail(Frame.Reset.BROKEN, "the engine's response broke: " + e.getMessage()));
            r.endHandler(v -> {
                if (!done) {
                    done = true;
                    streams.remove(id);
                    write(Frame.data(id, Buffer.buffer(), true));
                }
            });
        }

        private void forward(Buffer chunk) {
            if (done) {
                return;
            }
            for (int from = 0; from < chunk.length(); from += Frame.MAX_PAYLOAD) {
                write(Frame.data(id, chunk.slice(from, Math.min(chunk.length(), from + Frame.MAX_PAYLOAD)), false));
            }
            credit -= chunk.length();
            if (credit <= 0) {
                response.pause();
            } else if (ws.writeQueueFull()) {
                response.pause();
                waitingForDrain.add(this);
            }
        }

        void credit(int bytes) {
            credit += bytes;
            maybeResume();
        }

        void maybeResume() {
            if (response == null || done || credit <= 0) {
                return;
            }
            if (ws.writeQueueFull()) {
                waitingForDrain.add(this);
            } else {
                response.resume();
            }
        }

        private void fail(Frame.Reset code, String reason) {
            if (done) {
                return;
            }
            done = true;
            streams.remove(id);
            if (code == Frame.Reset.BROKEN) {
                LOG.debugf("Tunnel request %d: %s", id, reason);
            }
            write(Frame.reset(id, code, reason));
            if (request != null) {
                request.reset();
            }
        }

        /** Reset by the pool (the client went away) or the tunnel closed: stop the engine. */
        void abort() {
            done = true;
            waitingForDrain.remove(this);
            if (request != null) {
                request.reset();
            }
        }
    }
}
