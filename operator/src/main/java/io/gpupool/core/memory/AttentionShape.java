package io.gpupool.core.memory;

/** The part of a transformer's shape that sizes its KV cache. */
public record AttentionShape(int layers, int kvHeads, int headDim) {

    /**
     * A conservative shape for a model of unknown architecture, from the Llama family (grouped-query attention with 8
     * KV heads of dimension 128), by size band: 8B has 32 layers, 70B has 80, 405B has 126.
     */
    public static AttentionShape derivedFrom(double parametersBillions) {
        int layers;
        if (parametersBillions <= 1.5) {
            layers = 16;
        } else if (parametersBillions <= 4) {
            layers = 28;
        } else if (parametersBillions <= 10) {
            layers = 32;
        } else if (parametersBillions <= 20) {
            layers = 40;
        } else if (parametersBillions <= 40) {
            layers = 64;
        } else if (parametersBillions <= 80) {
            layers = 80;
        } else if (parametersBillions <= 200) {
            layers = 96;
        } else {
            layers = 126;
        }
        return new AttentionShape(layers, 8, 128);
    }
}
