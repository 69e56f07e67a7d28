package io.gpupool.bench.jmh_generated;
public class AdmissionCycleBenchmark_jmhType extends AdmissionCycleBenchmark_jmhType_B3 {
}

