/**
 * The gpupool.io/v1alpha1 API: the custom resources users, charts and the contributor agent rely on.
 * Every field carries a description so that {@code kubectl explain} teaches the API.
 */
package io.gpupool.api.v1alpha1;
