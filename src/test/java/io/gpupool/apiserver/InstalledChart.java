package io.gpupool.apiserver;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * A chart of charts/ rendered by real Helm (helm-java, {@code helm template}) and created on the API server as admin,
 * the way {@code helm install} would (namespaced objects without a namespace go to the release namespace). Closing it
 * deletes what it created, except Namespaces (other classes of the tier reuse them by name).
 */
public final class InstalledChart implements AutoCloseable {

    private final KubernetesClient admin;
    private final List<HasMetadata> objects;

    private InstalledChart(KubernetesClient admin, List<HasMetadata> objects) {
        this.admin = admin;
        this.objects = objects;
    }

    /**
     * @param which the rendered objects to create (the others are left out, e.g. workloads nothing would run)
     */
    public static InstalledChart install(KubernetesClient admin, String chart, String release, String namespace,
            Map<String, Object> values, Predicate<HasMetadata> which) {
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
                .createOr(r -> r.update());
        List<HasMetadata> created = new ArrayList<>();
        for (HasMetadata o : render(admin, chart, release, namespace, values)) {
            if (!which.test(o)) {
                continue;
            }
            if (o instanceof Namespaced && o.getMetadata().getNamespace() == null) {
                o.getMetadata().setNamespace(namespace);
            }
            created.add(admin.resource(o).createOr(r -> r.update()));
        }
        return new InstalledChart(admin, created);
    }

    /** What {@code helm template} renders for the chart, release, namespace and values. */
    public static List<HasMetadata> render(KubernetesClient client, String chart, String release, String namespace,
            Map<String, Object> values) {
        // Rendered for this server's version, as helm install would (e.g. PodDisruptionBudgets in policy/v1beta1 on 1.20).
        TemplateCommand template = new Helm(Path.of("charts", chart)).template().withName(release)
                .withNamespace(namespace).withKubeVersion(client.getKubernetesVersion().getGitVersion());
        for (var v : values.entrySet()) {
            template = template.set(v.getKey(), v.getValue());
        }
        String yaml = template.call();
        return client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    List<HasMetadata> objects() {
        return objects;
    }

    /** The one created object of this type. */
    <T extends HasMetadata> T one(Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one " + type.getSimpleName() + ", got " + found.size());
        }
        return found.get(0);
    }

    @Override
    public void close() {
        for (HasMetadata o : objects) {
            if (!(o instanceof Namespace)) {
                admin.resource(o).delete();
            }
        }
    }
}
