"""Real OpenStack clients against a running starlingd.

Run by the server crate's integration tests with the Python that has
keystoneauth1, openstacksdk and python-openstackclient installed:

    python clients.py AUTH_URL PASSWORD [CACERT]

Each step prints one line; any failure raises (non-zero exit).
"""

import json
import os
import subprocess
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import openstack

auth_url, password = sys.argv[1], sys.argv[2]
cacert = sys.argv[3] if len(sys.argv) > 3 else None
verify = cacert if cacert else True

# keystoneauth1: log in (discovery, then a project-scoped password login),
# read the catalog, and call FM through the session by service type.
auth = v3.Password(
    auth_url=auth_url,
    username="admin",
    password=password,
    project_name="admin",
    user_domain_name="Default",
    project_domain_name="Default",
)
sess = ks_session.Session(auth=auth, verify=verify)
token = sess.get_token()
assert len(token) == 64, token
access = auth.get_access(sess)
assert access.project_name == "admin", access.project_name
assert "admin" in access.role_names, access.role_names
fm_url = access.service_catalog.url_for(
    service_type="faultmanagement", interface="internal", region_name="RegionOne"
)
print("keystoneauth1: token issued, faultmanagement at", fm_url)
r = sess.get(
    "/v1/alarms",
    endpoint_filter={"service_type": "faultmanagement", "interface": "public"},
)
assert r.status_code == 200, r.status_code
assert "alarms" in r.json(), r.text
r = sess.get(
    "/v1/alarms/summary",
    endpoint_filter={"service_type": "faultmanagement", "interface": "internal"},
)
print("keystoneauth1: FM summary", r.json())
# A set and a clear through the session (admin may change).
body = {
    "alarm_id": "100.101",
    "alarm_state": "set",
    "entity_type_id": "host",
    "entity_instance_id": "host=pyclient",
    "severity": "major",
    "reason_text": "set by keystoneauth1",
    "alarm_type": "equipment",
    "probable_cause": "unknown",
}
r = sess.post(
    "/v1/alarms", json=body, endpoint_filter={"service_type": "faultmanagement"}
)
assert r.status_code in (200, 201), (r.status_code, r.text)
uuid = r.json()["uuid"]
r = sess.delete(
    "/v1/alarms/" + uuid, endpoint_filter={"service_type": "faultmanagement"}
)
assert r.status_code in (200, 204), (r.status_code, r.text)
print("keystoneauth1: alarm set and cleared")

# openstacksdk: the same login through a Connection; identity resources.
conn = openstack.connect(
    auth_url=auth_url,
    username="admin",
    password=password,
    project_name="admin",
    user_domain_name="Default",
    project_domain_name="Default",
    region_name="RegionOne",
    interface="internal",
    identity_interface="internal",
    cacert=cacert,
)
users = [u.name for u in conn.identity.users()]
assert "admin" in users, users
projects = sorted(p.name for p in conn.identity.projects())
assert {"admin", "services"} <= set(projects), projects
roles = sorted(r.name for r in conn.identity.roles())
for r in ("admin", "member", "reader", "operator", "configurator"):
    assert r in roles, roles
types = sorted(s.type for s in conn.identity.services())
assert "faultmanagement" in types and "identity" in types, types
r = conn.session.get(
    "/v1/alarms/summary",
    endpoint_filter={"service_type": "faultmanagement", "interface": "internal"},
)
assert r.status_code == 200, r.status_code
print("openstacksdk: users", users, "projects", projects)

# python-openstackclient: the `openstack` command with openrc-style variables.
env = dict(os.environ)
env.update(
    {
        "OS_AUTH_URL": auth_url,
        "OS_USERNAME": "admin",
        "OS_PASSWORD": password,
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "internal",
        "OS_IDENTITY_API_VERSION": "3",
    }
)
if cacert:
    env["OS_CACERT"] = cacert
openstack_cli = os.path.join(os.path.dirname(sys.executable), "openstack")


def osc(*args, output=True):
    fmt = ["-f", "json"] if output else []
    out = subprocess.run(
        [openstack_cli, *args, *fmt],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit("openstack %s failed: %s" % (" ".join(args), out.stderr))
    return json.loads(out.stdout) if output else None


tok = osc("token", "issue")
assert tok["project_id"] and tok["user_id"], tok
cat = osc("catalog", "list")
assert any(s["Type"] == "faultmanagement" for s in cat), cat
osc("user", "create", "--password", "Pyth0n!pw", "--domain", "default", "pyuser")
osc("role", "add", "--user", "pyuser", "--project", "admin", "reader", output=False)
assigned = osc("role", "assignment", "list", "--user", "pyuser", "--names")
assert any(a["Role"] == "reader" for a in assigned), assigned
osc("user", "delete", "pyuser", output=False)
gone = [u["Name"] for u in osc("user", "list")]
assert "pyuser" not in gone, gone
print("openstack CLI: token issue, catalog list, user create/role add/delete")
print("ALL CLIENTS OK")
