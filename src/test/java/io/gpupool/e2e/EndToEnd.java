package io.gpupool.e2e;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import io.gpupool.apiserver.RealKubeApiServer;

/**
 * Marks a test class of the end-to-end tier: the operator on the real control plane (kube-apiserver, etcd,
 * kube-controller-manager, kube-scheduler) with the simulated kubelet, the one the real-API-server tier shares for the
 * whole run. Classes are named {@code *E2ETest}: {@code mvn test -Dtest='*E2ETest'} runs exactly the tier (and
 * {@code -Dgroups=e2e} too).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("e2e")
@ExtendWith(RealKubeApiServer.class)
public @interface EndToEnd {
}
