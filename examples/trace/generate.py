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
# autoscaled services (request-rate columns): what they hold follows their load
services = [
    # acme's chat model: idle at night, busy at midday; scale to zero in between
    (0, 'acme', 7200, 1, 4, 20000, 0, 'false', 0, 4, '0;2;8;1;0;5', 1200, 2, 4, 300, 90, 'acme-chat'),
    # gamma's code model: always one replica warm
    (300, 'gamma', 6900, 1, 3, 20000, 0, 'false', 1, 3, '1;3;0.5', 2400, 1.5, 2, 300, 60, 'gamma-coder'),
]
jobs += services
jobs.sort(key=lambda j: j[0])
with open('examples/trace/workload.csv', 'w') as f:
    f.write('id,organization,submit_s,duration_s,gpus_per_replica,replicas,min_gpu_memory_mib,priority,shared,'
            'min_replicas,max_replicas,request_rate,rate_period_s,request_s,target_in_flight,scale_down_delay_s,'
            'cold_start_s\n')
    n = 0
    for j in jobs:
        t, org, dur, g, r, mem, pr, sh = j[:8]
        if len(j) > 8:
            name, rest = j[-1], ','.join(str(x) for x in j[8:-1])
        else:
            name, rest, n = f'{org}-{n:03d}', ',,,,,,,', n + 1
        f.write(f'{name},{org},{t},{dur},{g},{r},{mem},{pr},{sh},{rest}\n')
print(len(jobs))
