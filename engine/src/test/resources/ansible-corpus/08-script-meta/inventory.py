#!/usr/bin/python3
import json, sys
if len(sys.argv) > 1 and sys.argv[1] == "--host":
    print("{}")
    sys.exit(0)
print(json.dumps({
    "tag_web": {"hosts": ["i-0a1", "i-0a2"], "vars": {"http_port": 80, "tls": True}},
    "tag_db": ["i-0b1"],
    "region_eu": {"hosts": ["i-0a1", "i-0b1"], "children": ["az_eu1a"]},
    "az_eu1a": {"hosts": ["i-0c9"], "vars": {"zone": "eu-1a"}},
    "_meta": {"hostvars": {
        "i-0a1": {"ansible_host": "198.51.100.1", "ec2_state": "running", "ec2_tags": {"Name": "web-1"}},
        "i-0a2": {"ansible_host": "198.51.100.2", "weights": [1, 2.5, None]},
        "i-0b1": {"ansible_host": "198.51.100.3", "ansible_port": 2222}
    }}
}))
