package io.gpupool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;

class CertificateAuthenticationTest {

    @Test
    void aCertificateOnlyConfigurationGetsATokenProviderWithoutAToken() {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:6443")
                .withClientCertData("Y2VydA==").withClientKeyData("a2V5").build();

        CertificateAuthentication.withoutTokenRefresh(config);

        assertThat(config.getOauthTokenProvider()).isNotNull();
        assertThat(config.getOauthTokenProvider().getToken()).isNull();
    }

    @Test
    void tokensAndOtherCredentialsAreLeftAlone() {
        Config token = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:6443")
                .withClientCertData("Y2VydA==").withOauthToken("t0ken").build();
        Config serviceAccount = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:6443").build();
        serviceAccount.setAutoOAuthToken("from-the-token-file");
        Config basic = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:6443")
                .withClientCertData("Y2VydA==").withUsername("admin").withPassword("secret").build();
        Config nothing = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:6443").build();

        for (Config c : new Config[] { token, serviceAccount, basic, nothing }) {
            CertificateAuthentication.withoutTokenRefresh(c);
            assertThat(c.getOauthTokenProvider()).isNull();
        }
    }
}
