package io.gpupool.operator.json;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;

import io.quarkus.kubernetes.client.KubernetesClientObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/** The application's Kubernetes client decodes and encodes with {@link FasterJson}'s mapper. */
@QuarkusTest
@WithKubernetesTestServer
class ClientJsonTest {

    @Inject
    @KubernetesClientObjectMapper
    ObjectMapper clientMapper;

    @Test
    void theClientsMapperHasBlackbird() {
        assertThat(clientMapper.getRegisteredModuleIds()).contains(new BlackbirdModule().getTypeId());
    }
}
