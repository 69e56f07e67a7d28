package io.gpupool.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of an API server that a test can cut and restore: while cut, open connections are closed and
 * new ones are dropped at once (a network outage, as an agent behind NAT sees one). The server keeps its state.
 */
public final class TcpProxy implements AutoCloseable {

    private final ServerSocket listener;
    private volatile int[] targetPorts;
    private int next;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean up = true;
    private volatile boolean closed;

    /** With several targets, connections go to them in turn (a load balancer in front of replicas). */
    public TcpProxy(int... targetPorts) throws IOException {
        this.targetPorts = targetPorts.clone();
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "tcp-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    public void cut() {
        up = false;
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    public void restore() {
        up = true;
    }

    /** From now on, new connections go to another port (open ones are cut): another server answers at this address. */
    public void retarget(int port) {
        targetPorts = new int[] { port };
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Connections dropped because the link was cut (how often a client tried to reconnect meanwhile). */
    public int refusedConnections() {
        return refused.get();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private int targetPort() {
        int[] ports = targetPorts;
        return ports[next++ % ports.length];
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (!up) {
                    refused.incrementAndGet();
                    closeQuietly(client);
                    continue;
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort());
                // No Nagle: small frames (a tunnel's window updates) would wait for the peer's delayed ACK.
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                open.add(client);
                open.add(server);
                pipe(client, server);
                pipe(server, client);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // connection closed on either side
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "tcp-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        cut();
        listener.close();
    }
}
