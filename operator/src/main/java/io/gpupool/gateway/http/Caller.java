package io.gpupool.gateway.http;

import io.gpupool.core.gateway.metering.UsageCounts;

/** Who is calling: the organization of the API key, its weight, and the key (for the key's usage). */
record Caller(String organization, double weight, UsageCounts.KeyRef key) {
}
