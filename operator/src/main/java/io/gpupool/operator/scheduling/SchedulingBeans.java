package io.gpupool.operator.scheduling;

import java.time.Clock;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.gpupool.core.admission.AdmissionEngine;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.admission.FirstComeAdmission;

/** Chooses the admission engine and the clock; tests replace the clock. */
@ApplicationScoped
public class SchedulingBeans {

    @Produces
    @ApplicationScoped
    AdmissionEngine admissionEngine(@ConfigProperty(name = "gpupool.admission.engine", defaultValue = "fair-share") String name) {
        return switch (name) {
            case "fair-share" -> new FairShareAdmission();
            case "first-come" -> new FirstComeAdmission();
            default -> throw new IllegalArgumentException("gpupool.admission.engine: unknown engine '" + name
                    + "'; use fair-share or first-come");
        };
    }

    @Produces
    @ApplicationScoped
    Clock clock() {
        return Clock.systemUTC();
    }
}
