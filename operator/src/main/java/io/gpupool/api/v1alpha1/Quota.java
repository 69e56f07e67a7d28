package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class Quota {

    @Default("1")
    @Min(0)
    @Max(1000)
    @JsonPropertyDescription("Fair-share weight: an organization with weight 2 may hold twice the borrowed share of "
            + "one with weight 1 before it yields. 0 means it only borrows when nobody else waits. Defaults to 1.")
    public Double weight = 1.0;

    @Size(max = 64)
    @ValidationRule(value = "self.all(x, self.exists_one(y, y.gpuClass == x.gpuClass))", message = "lists a GpuClass more than once")
    @JsonPropertyDescription("GPUs guaranteed per GpuClass, on top of what the organization contributes (in "
            + "ContributionWeighted mode).")
    public List<ClassGpus> nominal = new ArrayList<>();

    @Size(max = 64)
    @ValidationRule(value = "self.all(x, self.exists_one(y, y.gpuClass == x.gpuClass))", message = "lists a GpuClass more than once")
    @JsonPropertyDescription("Most GPUs per GpuClass the organization may borrow beyond its nominal quota. A class not "
            + "listed may be borrowed without limit.")
    public List<ClassGpus> borrowingLimit = new ArrayList<>();

    @Size(max = 64)
    @ValidationRule(value = "self.all(x, self.exists_one(y, y.gpuClass == x.gpuClass))", message = "lists a GpuClass more than once")
    @JsonPropertyDescription("Most GPUs per GpuClass of its nominal quota that others may borrow while it is idle. A "
            + "class not listed is lent without limit.")
    public List<ClassGpus> lendingLimit = new ArrayList<>();
}
