package io.gpupool.apiserver;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class of the real-API-server tier: it runs against the one kube-apiserver + etcd that
 * {@link RealKubeApiServer} starts for the whole test run. Classes of the tier are named {@code *ApiServerTest}, so
 * {@code mvn test -Dtest='*ApiServerTest'} runs exactly the tier (and {@code -Dgroups=apiserver} too).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("apiserver")
@ExtendWith(RealKubeApiServer.class)
public @interface ApiServerTier {
}
