# Generates the sample trace of README's "Trace simulator" section: python3 examples/trace/generate.py
import random
random.seed(7)
pool = """cluster,node,organization,gpu_product,gpu_memory_mib,gpus,joins_at_s,leaves_at_s
uni-a,a100-1,acme,NVIDIA-A100-SXM4-80GB,81920,8,0,
uni-a,a100-2,acme,NVIDIA-A100-SXM4-80GB,81920,8,0,
uni-a,l4-1,acme,NVIDIA-L4,23034,4,0,
lab-b,l4-1,beta,NVIDIA-L4,23034,4,0,
lab-b,l4-2,beta,NVIDIA-L4,23034,4,0,
lab-b,l4-3,beta,NVIDIA-L4,23034,4,0,
home-g,rtx-1,gamma,NVIDIA-GeForce-RTX-4090,24564,2,0,
home-g,rtx-2,gamma,NVIDIA-GeForce-RTX-4090,24564,2,0,
home-g,rtx-3,gamma,NVIDIA-GeForce-RTX-4090,24564,2,1800,
home-g,rtx-4,gamma,NVIDIA-GeForce-RTX-4090,24564,2,0,5400
"""
open('examples/trace/pool.csv','w').write(pool)
jobs = []
# delta contributes nothing; it and beta flood the idle A100s early
for i in range(16):
    t = i * 40
    org = 'delta' if i % 2 == 0 else 'beta'
    jobs.append((t, org, random.choice([1200, 1800, 2400]), 2, 1, 40000, 0, 'false'))
# acme comes back at t=1200 wanting its A100s: reclaim
for i in range(8):
    jobs.append((1200 + i * 60, 'acme', random.choice([1200, 1800]), 4, 1, 70000, 0, 'false'))
# steady background of small inference jobs from everyone
for i in range(170):
    t = random.randint(0, 7200)
    org = random.choice(['acme', 'beta', 'gamma', 'delta'])
    mem = random.choice([0, 16000, 20000])
    jobs.append((t, org, random.randint(300, 1500), 1, random.choice([1, 1, 1, 2]), mem, random.choice([0, 0, 1]), 'false'))
# a shared community model
jobs.append((600, 'gamma', 6000, 1, 2, 20000, 5, 'true'))
jobs.append((3000, 'beta', 3000, 2, 2, 20000, 0, 'true'))
jobs.sort(key=lambda j: j[0])
with open('examples/trace/workload.csv', 'w') as f:
    f.write('id,organization,submit_s,duration_s,gpus_per_replica,replicas,min_gpu_memory_mib,priority,shared\n')
    for n, j in enumerate(jobs):
        t, org, dur, g, r, mem, pr, sh = j
        f.write(f'{org}-{n:03d},{org},{t},{dur},{g},{r},{mem},{pr},{sh}\n')
print(len(jobs))
