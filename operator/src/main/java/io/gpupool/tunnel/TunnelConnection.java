package io.gpupool.tunnel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.logging.Logger;

import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The pool's end of one agent's tunnel: a WebSocket over which it multiplexes requests (one stream each), keeps the
 * replicas the agent reports, checks that the other end is alive (pings) and still authorized (the agent sends its
 * current token whenever it changes; the pool asks the API server again at every re-authorization), and fails every
 * open stream when the tunnel goes.
 */
final class TunnelConnection {

    private static final Logger LOG = Logger.getLogger(TunnelConnection.class);

    private final Vertx vertx;
    private final ServerWebSocket ws;
    private final AgentIdentity identity;
    private final TunnelServer.Settings settings;
    private final TunnelAuthenticator authenticator;
    private final TunnelRegistry registry;
    private final Map<Integer, PoolStream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextStream = new AtomicInteger();
    /** Open requests per pod, for the least-loaded choice among a work's replicas. */
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private volatile Map<String, List<String>> replicas = Map.of();
    private volatile String token;
    private volatile long lastHeard = System.nanoTime();
    private volatile boolean closed;
    private long keepaliveTimer;
    private long reauthorizationTimer;

    TunnelConnection(Vertx vertx, ServerWebSocket ws, AgentIdentity identity, String token,
            TunnelServer.Settings settings, TunnelAuthenticator authenticator, TunnelRegistry registry) {
        this.vertx = vertx;
        this.ws = ws;
        this.identity = identity;
        this.token = token;
        this.settings = settings;
        this.authenticator = authenticator;
        this.registry = registry;
    }

    /** Starts serving the tunnel: frames, keepalive, re-authorization; registers it. */
    void open(Frame.Hello hello) {
        ws.binaryMessageHandler(this::onMessage);
        ws.pongHandler(pong -> lastHeard = System.nanoTime());
        ws.exceptionHandler(e -> LOG.debugf("Tunnel of %s: %s", identity.cluster(), e.getMessage()));
        ws.closeHandler(v -> onClosed());
        long ping = settings.keepalive().toMillis();
        keepaliveTimer = vertx.setPeriodic(ping, ping, t -> keepalive());
        long reauth = settings.reauthorization().toMillis();
        reauthorizationTimer = vertx.setPeriodic(reauth, reauth, t -> reauthorize());
        write(hello.frame());
        registry.add(this);
        LOG.infof("Tunnel open from cluster %s (%s)", identity.cluster(), identity.user());
    }

    String cluster() {
        return identity.cluster();
    }

    String describe() {
        return "tunnel to " + identity.cluster();
    }

    boolean isOpen() {
        return !closed;
    }

    /** The ready replicas the agent reported, by work. */
    Map<String, List<String>> replicas() {
        return replicas;
    }

    /** Requests that have not ended yet. */
    int openStreams() {
        return streams.size();
    }

    /** Sends a request to one replica; see {@link io.gpupool.gateway.upstream.Upstream#send}. */
    Future<UpstreamResponse> send(RemoteReplica replica, UpstreamRequest request) {
        ContextInternal caller = (ContextInternal) vertx.getOrCreateContext();
        if (closed) {
            return caller.failedFuture(new UpstreamUnavailableException(describe() + " is closed"));
        }
        int id = nextStream.incrementAndGet();
        if (id <= 0) { // after 2^31 requests on one tunnel
            nextStream.set(0);
            id = nextStream.incrementAndGet();
        }
        PoolStream stream = new PoolStream(id, replica.pod(), this, caller, settings.window());
        streams.put(id, stream);
        inFlight.computeIfAbsent(replica.pod(), p -> new AtomicInteger()).incrementAndGet();
        Heads.Request head = new Heads.Request(replica.work(), replica.pod(), request.method(), request.path(),
                request.headers(), settings.window());
        Buffer body = request.body() == null ? Buffer.buffer() : request.body();
        Buffer json = head.toJson().toBuffer();
        int first = Math.min(body.length(), Math.max(0, Frame.MAX_PAYLOAD - 4 - json.length()));
        write(new Frame(Frame.Type.REQUEST, id, first == body.length(), Frame.headAndBody(json, body, 0, first)));
        for (int from = first; from < body.length(); from += Frame.MAX_PAYLOAD) {
            int to = Math.min(body.length(), from + Frame.MAX_PAYLOAD);
            write(Frame.data(id, body.slice(from, to), to == body.length()));
        }
        if (closed) { // closed meanwhile: onClosed may not have seen this stream
            forget(stream);
            stream.onFailure(Frame.Reset.UNAVAILABLE, "the tunnel closed");
        }
        return stream.head();
    }

    void write(Frame frame) {
        if (closed) {
            return;
        }
        ws.writeBinaryMessage(frame.encode()).onFailure(e -> LOG.debugf("Tunnel of %s: write failed: %s",
                identity.cluster(), e.getMessage()));
    }

    void forget(PoolStream stream) {
        if (streams.remove(stream.id(), stream)) {
            ended(stream);
        }
    }

    /** Removes a stream the agent ended or reset. */
    private PoolStream remove(int id) {
        PoolStream s = streams.remove(id);
        if (s != null) {
            ended(s);
        }
        return s;
    }

    private void ended(PoolStream stream) {
        AtomicInteger n = inFlight.get(stream.pod());
        if (n != null) {
            n.decrementAndGet();
        }
    }

    /** Requests to a pod that have not ended yet. */
    int inFlight(String pod) {
        AtomicInteger n = inFlight.get(pod);
        return n == null ? 0 : n.get();
    }

    private void onMessage(Buffer message) {
        lastHeard = System.nanoTime();
        Frame frame;
        try {
            frame = Frame.decode(message);
            dispatch(frame);
        } catch (RuntimeException e) {
            LOG.warnf("Tunnel of %s: %s; closing it", identity.cluster(), e.getMessage());
            close((short) 1002, "protocol error");
        }
    }

    private void dispatch(Frame frame) {
        switch (frame.type()) {
            case RESPONSE -> {
                PoolStream s = frame.end() ? remove(frame.stream()) : streams.get(frame.stream());
                if (s != null) {
                    s.onHead(Heads.Response.of(frame.head()));
                    Buffer body = frame.bodyAfterHead();
                    if (body.length() > 0 || frame.end()) {
                        s.onData(body, frame.end());
                    }
                }
            }
            case DATA -> {
                PoolStream s = frame.end() ? remove(frame.stream()) : streams.get(frame.stream());
                if (s != null) {
                    s.onData(frame.payload(), frame.end());
                }
            }
            case RESET -> {
                PoolStream s = remove(frame.stream());
                if (s != null) {
                    s.onFailure(frame.resetCode(), frame.resetReason());
                }
            }
            case REPLICAS -> {
                replicas = parseReplicas(frame.json());
                registry.changed();
            }
            case CREDENTIALS -> token = frame.text();
            default -> throw new TunnelProtocolException("the agent may not send " + frame.type());
        }
    }

    static Map<String, List<String>> parseReplicas(JsonObject json) {
        JsonObject works = json.getJsonObject("works", new JsonObject());
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (String work : works.fieldNames()) {
            JsonArray pods = works.getJsonArray(work);
            List<String> names = new ArrayList<>(pods.size());
            for (int i = 0; i < pods.size(); i++) {
                names.add(pods.getString(i));
            }
            out.put(work, List.copyOf(names));
        }
        return out;
    }

    private void keepalive() {
        long silentMillis = (System.nanoTime() - lastHeard) / 1_000_000;
        if (silentMillis > 3 * settings.keepalive().toMillis()) {
            LOG.warnf("Tunnel of %s silent for %d ms; closing it", identity.cluster(), silentMillis);
            close((short) 1001, "no keepalive");
            return;
        }
        if (!closed) {
            ws.writePing(Buffer.buffer());
        }
    }

    private void reauthorize() {
        String current = token;
        vertx.<AgentIdentity>executeBlocking(() -> authenticator.authenticate(current, identity.cluster()), false)
                .onFailure(e -> {
                    if (e instanceof TunnelRefusedException refused) {
                        LOG.warnf("Tunnel of %s no longer authorized: %s", identity.cluster(), refused.getMessage());
                        close((short) (4000 + refused.status()), refused.getMessage());
                    } else {
                        // The API server did not answer: keep the tunnel, ask again next time.
                        LOG.debugf("Tunnel of %s: re-authorization failed: %s", identity.cluster(), e.getMessage());
                    }
                });
    }

    void close(short code, String reason) {
        if (!closed) {
            // A WebSocket close reason has at most 123 bytes.
            ws.close(code, reason.length() > 120 ? reason.substring(0, 120) : reason);
        }
        onClosed();
    }

    private void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        vertx.cancelTimer(keepaliveTimer);
        vertx.cancelTimer(reauthorizationTimer);
        registry.remove(this);
        List<PoolStream> open = new ArrayList<>(streams.values());
        streams.clear();
        inFlight.clear();
        for (PoolStream s : open) {
            s.onFailure(Frame.Reset.BROKEN, "the tunnel closed");
        }
        LOG.infof("Tunnel from cluster %s closed (%d request(s) were open)", identity.cluster(), open.size());
    }
}
