package io.gpupool.core.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The gateway's API keys: 256 random bits behind a recognisable prefix, stored only as their SHA-256 (a key is not a
 * password: with that much entropy a fast hash is as safe as a slow one, and the gateway hashes every request's key).
 */
public final class ApiKeys {

    /** Every key starts with it, so that secret scanners and people recognise one. */
    public static final String PREFIX = "gpk_";
    public static final String HASH_PREFIX = "sha256:";
    /** Characters of a key shown in status (prefix and 8 of the random part). */
    static final int VISIBLE = PREFIX.length() + 8;

    private ApiKeys() {
    }

    public static String generate(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static String hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HASH_PREFIX + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The start of a key, to recognise it without revealing it. */
    public static String visiblePrefix(String key) {
        return key.substring(0, Math.min(VISIBLE, key.length())) + "...";
    }

    /** The key of an {@code Authorization: Bearer <key>} header, if there is one. */
    public static Optional<String> bearer(String authorization) {
        if (authorization == null) {
            return Optional.empty();
        }
        String a = authorization.trim();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String key = a.substring(7).trim();
        return key.isEmpty() ? Optional.empty() : Optional.of(key);
    }
}
