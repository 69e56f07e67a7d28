package io.gpupool.tunnel;

/** Decides who may open a tunnel for which contributed cluster. */
public interface TunnelAuthenticator {

    /**
     * Checks a bearer token presented for a cluster. Blocking (it asks the API server): called on a worker thread, when
     * a tunnel opens and again at every re-authorization of an open one.
     *
     * @return the identity, when the token is the credential of that cluster's agent
     * @throws TunnelRefusedException otherwise, saying why
     */
    AgentIdentity authenticate(String token, String cluster);
}
