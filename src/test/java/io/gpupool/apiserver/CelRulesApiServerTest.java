package io.gpupool.apiserver;

import static io.gpupool.apiserver.RawObjects.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.VersionInfo;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.validation.ModelDeploymentValidator;

/**
 * The CEL validation rules (x-kubernetes-validations) in crds/. Kubernetes 1.20 has no CEL: the server accepts the
 * CRDs and silently drops the rules (kubectl's client-side validation would refuse them unless --validate=false; the
 * tests apply with the Fabric8 client), so the rules are checked here with Google's CEL for Java instead: every rule
 * compiles, holds for the valid examples and fails for the invalid ones. A rule without cases fails the test.
 * Where the operator's own validator covers the same problem, it must agree (it is what catches it on old servers).
 */
@ApiServerTier
class CelRulesApiServerTest {

    private static final String NS = "cel-rules";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** A rule found in a CRD: the kind, the schema path it is attached to, the rule and its message. */
    record Rule(String kind, String path, String rule, String message) {
        String id() {
            return kind + " " + path + ": " + rule;
        }
    }

    /** A value of self at the rule's path, and whether the rule must hold for it. */
    record Case(String kind, String path, String ruleContains, String description, String selfJson, boolean valid) {
    }

    static List<Case> cases() {
        return List.of(
                // ModelDeployment spec: engine llamacpp requires model.file.
                new Case("ModelDeployment", "spec", "llamacpp", "vllm without file",
                        "{'engine':'vllm','model':{'source':'hf://a/b'}}", true),
                new Case("ModelDeployment", "spec", "llamacpp", "engine defaulted, no file",
                        "{'model':{'source':'hf://a/b'}}", true),
                new Case("ModelDeployment", "spec", "llamacpp", "llamacpp with a file",
                        "{'engine':'llamacpp','model':{'source':'hf://a/b','file':'m.gguf'}}", true),
                new Case("ModelDeployment", "spec", "llamacpp", "llamacpp without file",
                        "{'engine':'llamacpp','model':{'source':'hf://a/b'}}", false),
                // ModelDeployment spec: --trust-remote-code needs allowRemoteCode.
                new Case("ModelDeployment", "spec", "allowRemoteCode", "no engineArgs",
                        "{'model':{'source':'hf://a/b'}}", true),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "harmless engineArgs",
                        "{'model':{'source':'hf://a/b'},'engineArgs':['--enable-prefix-caching']}", true),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "remote code allowed",
                        "{'model':{'source':'hf://a/b'},'allowRemoteCode':true,'engineArgs':['--trust-remote-code']}", true),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "remote code not allowed",
                        "{'model':{'source':'hf://a/b'},'allowRemoteCode':false,'engineArgs':['--trust-remote-code']}", false),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "remote code, allowRemoteCode absent, = form",
                        "{'model':{'source':'hf://a/b'},'engineArgs':['-x','--trust-remote-code=true']}", false),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "remote code, underscores and upper case",
                        "{'model':{'source':'hf://a/b'},'engineArgs':['--Trust_Remote_Code=True']}", false),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "remote code, an abbreviation",
                        "{'model':{'source':'hf://a/b'},'engineArgs':['--trust-rem']}", false),
                new Case("ModelDeployment", "spec", "allowRemoteCode", "a flag that only starts alike",
                        "{'model':{'source':'hf://a/b'},'engineArgs':['--tokenizer-mode','auto']}", true),
                // ModelDeployment spec.gpu.classes: no duplicates.
                new Case("ModelDeployment", "spec.gpu.classes", "exists_one", "empty", "[]", true),
                new Case("ModelDeployment", "spec.gpu.classes", "exists_one", "distinct", "['l4-24g','a100-80g']", true),
                new Case("ModelDeployment", "spec.gpu.classes", "exists_one", "twice", "['l4-24g','a100-80g','l4-24g']", false),
                // ModelDeployment spec.autoscaling: minReplicas <= maxReplicas.
                new Case("ModelDeployment", "spec.autoscaling", "minReplicas", "min absent", "{'maxReplicas':2}", true),
                new Case("ModelDeployment", "spec.autoscaling", "minReplicas", "zero to two",
                        "{'minReplicas':0,'maxReplicas':2}", true),
                new Case("ModelDeployment", "spec.autoscaling", "minReplicas", "min equals max",
                        "{'minReplicas':3,'maxReplicas':3}", true),
                new Case("ModelDeployment", "spec.autoscaling", "minReplicas", "min above max",
                        "{'minReplicas':3,'maxReplicas':2}", false),
                // Organization quota lists: a GpuClass at most once.
                new Case("Organization", "spec.quota.nominal", "gpuClass", "distinct",
                        "[{'gpuClass':'a','gpus':1},{'gpuClass':'b','gpus':2}]", true),
                new Case("Organization", "spec.quota.nominal", "gpuClass", "twice",
                        "[{'gpuClass':'a','gpus':1},{'gpuClass':'a','gpus':2}]", false),
                new Case("Organization", "spec.quota.borrowingLimit", "gpuClass", "empty", "[]", true),
                new Case("Organization", "spec.quota.borrowingLimit", "gpuClass", "twice",
                        "[{'gpuClass':'h100','gpus':4},{'gpuClass':'h100','gpus':4}]", false),
                new Case("Organization", "spec.quota.lendingLimit", "gpuClass", "one", "[{'gpuClass':'h100','gpus':6}]", true),
                new Case("Organization", "spec.quota.lendingLimit", "gpuClass", "twice",
                        "[{'gpuClass':'b','gpus':1},{'gpuClass':'a','gpus':1},{'gpuClass':'b','gpus':0}]", false),
                // GpuPool fairness with memory: off, or a half-life of at least 30 minutes.
                new Case("GpuPool", "spec.fairShare.usageHalfLifeHours", "0.5", "off", "0.0", true),
                new Case("GpuPool", "spec.fairShare.usageHalfLifeHours", "0.5", "a day", "24.0", true),
                new Case("GpuPool", "spec.fairShare.usageHalfLifeHours", "0.5", "half an hour", "0.5", true),
                new Case("GpuPool", "spec.fairShare.usageHalfLifeHours", "0.5", "a quarter of an hour", "0.25", false));
    }

    @BeforeAll
    static void setUp(RealKubeApiServer.Server server) {
        server.applyCrds();
        server.admin().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .createOr(r -> r.update());
    }

    @Test
    void everyRuleCompilesHoldsForValidAndFailsForInvalidObjects() throws Exception {
        List<Rule> rules = rulesInCrds();
        assertThat(rules).as("CEL rules in crds/").hasSizeGreaterThanOrEqualTo(6);
        CelCompiler compiler = CelCompilerFactory.standardCelCompilerBuilder()
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addVar("self", SimpleType.DYN)
                .build();
        CelRuntime runtime = CelRuntimeFactory.standardCelRuntimeBuilder().build();
        List<String> failures = new ArrayList<>();
        for (Rule rule : rules) {
            CelValidationResult compiled = compiler.compile(rule.rule());
            if (compiled.hasError()) {
                failures.add(rule.id() + " does not compile: " + compiled.getErrorString());
                continue;
            }
            CelAbstractSyntaxTree ast = compiled.getAst();
            CelRuntime.Program program = runtime.createProgram(ast);
            List<Case> mine = cases().stream().filter(c -> c.kind().equals(rule.kind()) && c.path().equals(rule.path())
                    && rule.rule().contains(c.ruleContains())).toList();
            if (mine.stream().noneMatch(Case::valid) || mine.stream().allMatch(Case::valid)) {
                failures.add(rule.id() + " needs at least one valid and one invalid case in CelRulesApiServerTest.cases()");
            }
            for (Case c : mine) {
                Object self = toCel(JSON.readTree(c.selfJson().replace('\'', '"')));
                Object result;
                try {
                    result = program.eval(Map.of("self", self));
                } catch (Exception e) {
                    failures.add(rule.id() + " fails to evaluate for '" + c.description() + "': " + e.getMessage());
                    continue;
                }
                if (!Boolean.valueOf(c.valid()).equals(result)) {
                    failures.add(rule.id() + " gives " + result + " for '" + c.description() + "', expected " + c.valid());
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void theServerAcceptsTheCrdsAndDropsTheRulesItCannotEnforce(RealKubeApiServer.Server server) throws IOException {
        VersionInfo version = server.admin().getKubernetesVersion();
        int minor = Integer.parseInt(version.getMinor().replaceAll("\\D", ""));
        for (CustomResourceDefinition crd : server.applyCrds()) {
            String name = crd.getMetadata().getName();
            CustomResourceDefinition live = server.admin().apiextensions().v1().customResourceDefinitions().withName(name).get();
            assertThat(RealKubeApiServer.established(live)).as(name).isTrue();
            String schema = JSON.writeValueAsString(live.getSpec().getVersions().get(0).getSchema());
            if (minor < 25) {
                assertThat(schema).as("%s on 1.%d", name, minor).doesNotContain("x-kubernetes-validations");
            }
        }
        assertThat(rulesInCrds()).extracting(Rule::kind).contains("ModelDeployment", "Organization");
    }

    @Test
    void theOperatorsValidatorAgreesWithTheModelDeploymentRules(RealKubeApiServer.Server server) throws Exception {
        int n = 0;
        for (Case c : cases()) {
            boolean autoscaling = c.path().equals("spec.autoscaling");
            if (!c.kind().equals("ModelDeployment") || !(c.path().equals("spec") || autoscaling)) {
                continue;
            }
            ObjectNode md = RawObjects.modelDeployment(NS, "cel-" + (++n));
            ObjectNode spec = (ObjectNode) JSON.readTree((autoscaling
                    ? "{'model':{'source':'hf://a/b'},'autoscaling':" + c.selfJson() + "}" : c.selfJson())
                    .replace('\'', '"'));
            ((ObjectNode) spec.get("model")).put("parametersBillions", 8);
            md.set("spec", spec);
            // 1.20 stores it either way (no CEL) ...
            var stored = server.admin().resource(RawObjects.generic(md)).dryRun().create();
            ModelDeployment typed = JSON.convertValue(stored, ModelDeployment.class);
            // ... so the operator's validator must say what the rule says.
            List<String> problems = ModelDeploymentValidator.validate(typed.getMetadata().getName(), typed.getSpec());
            if (c.valid()) {
                assertThat(problems).as(c.description()).isEmpty();
            } else {
                assertThat(problems).as(c.description()).anySatisfy(p -> assertThat(p)
                        .containsAnyOf("spec.model.file is required", "--trust-remote-code",
                                "must not be greater than maxReplicas"));
            }
        }
        assertThat(n).isGreaterThanOrEqualTo(8);
    }

    /** Every x-kubernetes-validations rule of every CRD in crds/, with the path of the schema node it is on. */
    static List<Rule> rulesInCrds() throws IOException {
        List<Rule> rules = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("crds"))) {
            for (Path f : files.sorted().toList()) {
                JsonNode crd = YAML.readTree(f.toFile());
                String kind = crd.path("spec").path("names").path("kind").asText();
                for (JsonNode version : crd.path("spec").path("versions")) {
                    collect(kind, "", version.path("schema").path("openAPIV3Schema"), rules);
                }
            }
        }
        return rules;
    }

    private static void collect(String kind, String path, JsonNode schema, List<Rule> out) {
        for (JsonNode v : schema.path("x-kubernetes-validations")) {
            out.add(new Rule(kind, path, v.path("rule").asText(), v.path("message").asText()));
        }
        Map<String, JsonNode> children = new LinkedHashMap<>();
        schema.path("properties").fields().forEachRemaining(e -> children.put(e.getKey(), e.getValue()));
        children.forEach((name, child) -> collect(kind, path.isEmpty() ? name : path + "." + name, child, out));
        if (schema.has("items")) {
            collect(kind, path + "[]", schema.path("items"), out);
        }
    }

    /** JSON as CEL sees it: maps, lists, int64, double, string, bool. */
    static Object toCel(JsonNode n) {
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> m.put(e.getKey(), toCel(e.getValue())));
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(e -> l.add(toCel(e)));
            return l;
        }
        if (n.isIntegralNumber()) {
            return n.longValue();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isNull()) {
            return dev.cel.common.values.NullValue.NULL_VALUE;
        }
        return n.asText();
    }
}
