package io.gpupool.operator.modeldeployment;

import java.time.Duration;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.javaoperatorsdk.operator.Operator;
import io.quarkiverse.operatorsdk.runtime.QuarkusConfigurationService;
import io.quarkiverse.operatorsdk.runtime.QuarkusControllerConfiguration;
import io.quarkus.runtime.StartupEvent;

/**
 * Registers {@link ModelDeploymentReconciler} with JOSDK, with {@code triggerReconcilerOnAllEvents}: quarkus-operator-sdk
 * 7.4 reads that flag from {@code @ControllerConfiguration} at build time but drops it from the configuration it hands
 * JOSDK at run time ({@link QuarkusControllerConfiguration} has no such field, and a {@code ConfigurableReconciler}'s
 * overrides are copied into a new one without it), so the reconciler would never see a deletion. The reconciler is
 * therefore typed so that the extension does not register it ({@code @Typed}) and is registered here, before the
 * extension starts the operator (its StartupEvent observer has priority 3123), with the extension's own configuration
 * of it plus that one flag. Outside the operator's role the reconciler does not resolve and nothing is registered.
 */
@Singleton
class ModelDeploymentRegistration {

    void register(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent start, Instance<Operator> operator,
            Instance<QuarkusConfigurationService> configurations, Instance<ModelDeploymentReconciler> reconciler) {
        if (!reconciler.isResolvable()) {
            return;
        }
        ModelDeploymentReconciler r = reconciler.get();
        operator.get().register(r, new OnAllEvents(configurations.get().getConfigurationFor(r)));
    }

    /** The extension's configuration of the controller, every event triggering its reconciler. */
    static final class OnAllEvents extends QuarkusControllerConfiguration<ModelDeployment> {

        OnAllEvents(QuarkusControllerConfiguration<ModelDeployment> c) {
            // As the extension itself copies a configuration (OperatorProducer), the same default for the interval.
            super(c.getInformerConfig(), c.getName(), c.isGenerationAware(), c.getAssociatedReconcilerClassName(),
                    c.getRetry(), c.getRateLimiter(), c.maxReconciliationInterval().orElse(Duration.ofHours(10)),
                    c.getFinalizerName(), c.fieldManager(), c.getWorkflow(), c.getResourceTypeName(),
                    c.getResourceClass());
            setParent((QuarkusConfigurationService) c.getConfigurationService());
        }

        @Override
        public boolean triggerReconcilerOnAllEvents() {
            return true;
        }
    }
}
