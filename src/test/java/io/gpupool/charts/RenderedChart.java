package io.gpupool.charts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;

/** A chart rendered by real Helm (helm-java), parsed into Fabric8 objects. */
final class RenderedChart {

    static final Path CHARTS = Path.of("charts");
    private static final Pattern SEPARATOR = Pattern.compile("(?m)^---\\s*$");

    final String yaml;
    final List<HasMetadata> objects;

    private RenderedChart(String yaml) {
        this.yaml = yaml;
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : SEPARATOR.split(yaml)) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
                continue;
            }
            out.add(Serialization.unmarshal(doc, HasMetadata.class));
        }
        this.objects = List.copyOf(out);
    }

    /** helm template &lt;chart&gt; --namespace ns [-f values/&lt;file&gt;]... [--set k=v]... */
    static RenderedChart render(String chart, String namespace, List<String> valuesFiles, Map<String, Object> sets) {
        TemplateCommand cmd = new Helm(CHARTS.resolve(chart)).template().withName("gp").withNamespace(namespace);
        for (String f : valuesFiles) {
            cmd = cmd.withValuesFile(Path.of("src/test/resources/charts").resolve(f));
        }
        for (var e : sets.entrySet()) {
            cmd = cmd.set(e.getKey(), e.getValue());
        }
        return new RenderedChart(cmd.call());
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
        return find(type, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name
                + " in:\n" + yaml));
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
        return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
    }

    List<HasMetadata> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(o.getKind())).toList();
    }
}
