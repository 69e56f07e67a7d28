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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP front for several gateway replicas, as a Kubernetes Service is: each new connection goes to the next backend
 * in rotation; {@link #remove} takes one out of rotation (its pod stops being ready) while its open connections stay.
 */
public final class RoundRobinProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final List<Integer> backends = new CopyOnWriteArrayList<>();
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean closed;

    public RoundRobinProxy(List<Integer> ports) throws IOException {
        backends.addAll(ports);
        listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "round-robin-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort() + "/v1";
    }

    /** New connections no longer go to this backend. */
    public void remove(int port) {
        backends.remove(Integer.valueOf(port));
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                int port = backends.get(Math.floorMod(next.getAndIncrement(), backends.size()));
                Socket server = new Socket(InetAddress.getLoopbackAddress(), port);
                pipe(client, server);
                pipe(server, client);
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                try {
                    to.shutdownOutput();
                } catch (IOException e) {
                    // gone
                }
            }
        }, "round-robin-pipe");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
    }
}
