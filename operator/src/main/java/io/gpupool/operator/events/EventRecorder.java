package io.gpupool.operator.events;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Records Kubernetes Events (core/v1) on the objects a person looks at; those about cluster-scoped objects (a
 * Namespace, an Organization) go into "default", where Kubernetes' own recorders put them (the API server refuses them
 * anywhere else). Callers emit only on transitions (a condition that changes reason), so a bad object produces one
 * Event, not one per reconcile.
 */
@ApplicationScoped
public class EventRecorder {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    static final String COMPONENT = "gpupool-operator";

    private final KubernetesClient client;
    private final Clock clock;
    private final String component;
    private final Map<String, String> lastWarning = new ConcurrentHashMap<>();

    @Inject
    public EventRecorder(KubernetesClient client, Clock clock) {
        this(client, clock, COMPONENT);
    }

    /** @param component who records (the Events' source and reporting component), e.g. the contributor agent */
    public EventRecorder(KubernetesClient client, Clock clock, String component) {
        this.client = client;
        this.clock = clock;
        this.component = component;
    }

    public void normal(HasMetadata about, String reason, String message) {
        record(about, "Normal", reason, message);
    }

    public void warning(HasMetadata about, String reason, String message) {
        record(about, "Warning", reason, message);
    }

    /**
     * Records a warning unless the same reason and message were last recorded for this object: a reconcile that runs
     * again before its status patch is visible must not repeat the Event.
     */
    public void warningOnce(HasMetadata about, String reason, String message) {
        String key = about.getMetadata().getUid() + "/" + about.getMetadata().getName();
        String value = reason + "\n" + message;
        if (!value.equals(lastWarning.put(key, value))) {
            warning(about, reason, message);
        }
    }

    /** Forgets a deleted object. */
    public void forget(HasMetadata about) {
        lastWarning.remove(about.getMetadata().getUid() + "/" + about.getMetadata().getName());
    }

    private void record(HasMetadata about, String type, String reason, String message) {
        String namespace = about.getMetadata().getNamespace() == null ? "default" : about.getMetadata().getNamespace();
        String now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
        var event = new EventBuilder()
                .withNewMetadata()
                .withGenerateName(about.getMetadata().getName() + ".")
                .withNamespace(namespace)
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion(about.getApiVersion()).withKind(about.getKind())
                .withName(about.getMetadata().getName()).withNamespace(about.getMetadata().getNamespace())
                .withUid(about.getMetadata().getUid())
                .endInvolvedObject()
                .withType(type).withReason(reason).withMessage(truncate(message))
                .withNewSource().withComponent(component).endSource()
                .withReportingComponent(component).withReportingInstance(component)
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .build();
        try {
            client.v1().events().inNamespace(namespace).resource(event).create();
        } catch (KubernetesClientException e) {
            // An Event is a courtesy: never fail a reconcile because it could not be recorded.
            LOG.debugf("Could not record %s event %s on %s: %s", type.toLowerCase(Locale.ROOT), reason,
                    about.getMetadata().getName(), e.getMessage());
        }
    }

    private static String truncate(String message) {
        return message.length() <= 1024 ? message : message.substring(0, 1021) + "...";
    }
}
