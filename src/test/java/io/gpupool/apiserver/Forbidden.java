package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;

import org.junit.jupiter.api.function.Executable;

import io.fabric8.kubernetes.client.KubernetesClientException;

/** Least-privilege checks: a request either answers 403, or it is listed as allowed (the test then names them all). */
final class Forbidden {

    private Forbidden() {
    }

    /** Runs {@code request}; adds {@code what} to {@code allowed} if it succeeded, fails if it failed with anything but 403. */
    static void orAllowed(List<String> allowed, String what, Executable request) {
        KubernetesClientException e = catchThrowableOfType(KubernetesClientException.class, request::execute);
        if (e == null) {
            allowed.add(what);
        } else {
            assertThat(e.getCode()).as(what + ": " + e.getMessage()).isEqualTo(403);
        }
    }
}
