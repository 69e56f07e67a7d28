package io.gpupool.core.model;

/** Some replicas of a workload placed on one node. */
public record Assignment(NodeKey node, String gpuClass, int replicas) {
}
