"""kubernetes_sd_configs, pure translation: API objects -> target groups with Prometheus' labels,
role by role (the label sets of Prometheus' discovery/kubernetes code)."""
from __future__ import annotations

from typing import Any

from promwatch.discovery.kubernetes.endpoints import endpoints_groups, endpointslice_groups
from promwatch.discovery.kubernetes.node import node_groups
from promwatch.discovery.kubernetes.objects import Related, by_key, by_name
from promwatch.discovery.kubernetes.pod import pod_groups
from promwatch.discovery.kubernetes.service import ingress_groups, service_groups

from tests.support import k8s_objects as k8s

M = "__meta_kubernetes_"


def _web_pod(**kwargs: Any) -> dict[str, Any]:
    return k8s.pod(
        "web-7d4b9c-x2kqp", "shop", "10.0.3.21", node="ip-10-0-1-17.eu-west-1.compute.internal",
        containers=[
            k8s.container("app", "shop/web:1.4.2", [("http", 8080, "TCP"), ("", 9102, "UDP")]),
            k8s.container("log-router", "fluent/fluent-bit:3.2"),
        ],
        init_containers=[k8s.container("migrate", "shop/migrate:1.4.2", [("admin", 9000, "TCP")])],
        labels={"app.kubernetes.io/name": "web", "pod-template-hash": "7d4b9c"},
        annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
        owner=("ReplicaSet", "web-7d4b9c"), **kwargs,
    )


def test_pod_role_gives_a_target_per_container_port_and_one_per_portless_container() -> None:
    # Given a running, ready pod with a two-port container, a container without ports and an
    # init container, owned by a ReplicaSet,
    pod = _web_pod()
    # when translated,
    (group,) = pod_groups([pod], Related())
    # then the group carries the pod's labels as Prometheus names them (names sanitized, a
    # *present label per label and annotation),
    assert group.source == "pod/shop/web-7d4b9c-x2kqp"
    assert group.labels == {
        M + "namespace": "shop",
        M + "pod_name": "web-7d4b9c-x2kqp",
        M + "pod_ip": "10.0.3.21",
        M + "pod_ready": "true",
        M + "pod_phase": "Running",
        M + "pod_node_name": "ip-10-0-1-17.eu-west-1.compute.internal",
        M + "pod_host_ip": "10.0.1.17",
        M + "pod_uid": pod["metadata"]["uid"],
        M + "pod_label_app_kubernetes_io_name": "web",
        M + "pod_labelpresent_app_kubernetes_io_name": "true",
        M + "pod_label_pod_template_hash": "7d4b9c",
        M + "pod_labelpresent_pod_template_hash": "true",
        M + "pod_annotation_prometheus_io_scrape": "true",
        M + "pod_annotationpresent_prometheus_io_scrape": "true",
        M + "pod_annotation_prometheus_io_port": "8080",
        M + "pod_annotationpresent_prometheus_io_port": "true",
        M + "pod_controller_kind": "ReplicaSet",
        M + "pod_controller_name": "web-7d4b9c",
    }
    # and a target per port of the app container, one for the port-less container (the pod IP
    # alone), then the init container's, each with its container's ID from the statuses.
    statuses = {s["name"]: s["containerID"] for s in pod["status"]["containerStatuses"]}
    init_id = pod["status"]["initContainerStatuses"][0]["containerID"]
    assert [dict(t) for t in group.targets] == [
        {"__address__": "10.0.3.21:8080", M + "pod_container_name": "app", M + "pod_container_id": statuses["app"],
         M + "pod_container_image": "shop/web:1.4.2", M + "pod_container_init": "false",
         M + "pod_container_port_number": "8080", M + "pod_container_port_name": "http",
         M + "pod_container_port_protocol": "TCP"},
        {"__address__": "10.0.3.21:9102", M + "pod_container_name": "app", M + "pod_container_id": statuses["app"],
         M + "pod_container_image": "shop/web:1.4.2", M + "pod_container_init": "false",
         M + "pod_container_port_number": "9102", M + "pod_container_port_name": "",
         M + "pod_container_port_protocol": "UDP"},
        {"__address__": "10.0.3.21", M + "pod_container_name": "log-router",
         M + "pod_container_id": statuses["log-router"], M + "pod_container_image": "fluent/fluent-bit:3.2",
         M + "pod_container_init": "false"},
        {"__address__": "10.0.3.21:9000", M + "pod_container_name": "migrate", M + "pod_container_id": init_id,
         M + "pod_container_image": "shop/migrate:1.4.2", M + "pod_container_init": "true",
         M + "pod_container_port_number": "9000", M + "pod_container_port_name": "admin",
         M + "pod_container_port_protocol": "TCP"},
    ]


def test_a_pod_without_ip_has_no_targets_and_readiness_reads_the_ready_condition() -> None:
    # Given a pending pod without an IP and a pod whose Ready condition is False or missing,
    pending = k8s.pod("batch-1", "jobs", "", node="n1", containers=[k8s.container("c", "i", [("m", 1, "TCP")])],
                      phase="Pending")
    not_ready = k8s.pod("api-1", "shop", "10.0.3.9", node="n1", containers=[k8s.container("c", "i")], ready=False)
    unknown = k8s.pod("api-2", "shop", "10.0.3.10", node="n1", containers=[k8s.container("c", "i")])
    unknown["status"]["conditions"] = [c for c in unknown["status"]["conditions"] if c["type"] != "Ready"]
    groups = pod_groups([pending, not_ready, unknown], Related())
    # then the pending pod's group is empty, and ready reads false / unknown.
    assert groups[0].targets == () and groups[0].labels == {}
    assert groups[1].labels[M + "pod_ready"] == "false"
    assert groups[2].labels[M + "pod_ready"] == "unknown"


def test_attached_metadata_node_namespace_deployment_job_and_cronjob() -> None:
    # Given attach_metadata for the node, namespace, deployment, job and cronjob,
    web = _web_pod()
    elsewhere = k8s.pod("web-7d4b9c-zz", "shop", "10.0.3.22", node="ip-10-0-9-9", containers=[k8s.container("c", "i")])
    report = k8s.pod("report-28934-abc", "shop", "10.0.3.30", node="ip-10-0-1-17.eu-west-1.compute.internal",
                     containers=[k8s.container("report", "shop/report:2")], owner=("Job", "report-28934"))
    related = Related(
        nodes=by_name([k8s.node("ip-10-0-1-17.eu-west-1.compute.internal", "10.0.1.17",
                                labels={"eks.amazonaws.com/nodegroup": "general"})]),
        namespaces=by_name([k8s.namespace("shop", {"team": "checkout"})]),
        replicasets=by_key([k8s.replica_set("web-7d4b9c", "shop", "web")]),
        jobs=by_key([k8s.job("report-28934", "shop", cronjob="report")]),
        job_names=True,
    )
    web_group, elsewhere_group, report_group = pod_groups([web, elsewhere, report], related)
    # then the node's and namespace's labels are attached, the deployment and cronjob names found,
    assert web_group.labels[M + "node_name"] == "ip-10-0-1-17.eu-west-1.compute.internal"
    assert web_group.labels[M + "node_label_eks_amazonaws_com_nodegroup"] == "general"
    assert web_group.labels[M + "namespace_label_team"] == "checkout"
    assert web_group.labels[M + "namespace_labelpresent_kubernetes_io_metadata_name"] == "true"
    assert web_group.labels[M + "pod_deployment_name"] == "web"
    assert report_group.labels[M + "pod_job_name"] == "report-28934"
    assert report_group.labels[M + "pod_cronjob_name"] == "report"
    # and a pod on a node that is not listed (a node selector filtered it out) has no targets.
    assert elsewhere_group.targets == ()


def test_endpointslice_role_joins_service_and_pod_and_adds_uncovered_container_ports() -> None:
    # Given a service, its slice with a ready and a terminating endpoint backed by pods, and a
    # pod with a container port (9102) no endpoint port covers,
    svc = k8s.service("web", "shop", [("http", 80, "http")], cluster_ip="172.20.14.3",
                      labels={"app.kubernetes.io/name": "web"})
    first = _web_pod()
    second = k8s.pod("web-7d4b9c-q8w2n", "shop", "10.0.4.8", node="ip-10-0-2-40",
                     containers=[k8s.container("app", "shop/web:1.4.2", [("http", 8080, "TCP")])])
    eps = k8s.endpoint_slice("web-abc12", "shop", "web", ports=[("http", 8080)], endpoints=[
        {"ip": "10.0.3.21", "pod": first["metadata"]["name"], "node": "ip-10-0-1-17.eu-west-1.compute.internal"},
        {"ip": "10.0.4.8", "pod": "web-7d4b9c-q8w2n", "node": "ip-10-0-2-40", "zone": "eu-west-1b", "ready": False},
    ])
    eps["ports"][0]["appProtocol"] = "http"
    eps["endpoints"][0]["deprecatedTopology"] = {"kubernetes.io/hostname": "ip-10-0-1-17"}
    (group,) = endpointslice_groups([eps], [svc], [first, second], Related())
    # then the group has the slice's and the service's labels,
    assert group.source == "endpointslice/shop/web-abc12"
    assert group.labels[M + "endpointslice_name"] == "web-abc12"
    assert group.labels[M + "endpointslice_address_type"] == "IPv4"
    assert group.labels[M + "endpointslice_label_kubernetes_io_service_name"] == "web"
    assert group.labels[M + "service_name"] == "web"
    assert group.labels[M + "service_label_app_kubernetes_io_name"] == "web"
    # each endpoint its own labels, the pod's and the matching container port's,
    by_address = {t["__address__"]: dict(t) for t in group.targets}
    first_target = by_address["10.0.3.21:8080"]
    assert {k: v for k, v in first_target.items() if k.startswith(M + "endpointslice")} == {
        M + "endpointslice_port": "8080", M + "endpointslice_port_name": "http",
        M + "endpointslice_port_protocol": "TCP", M + "endpointslice_port_app_protocol": "http",
        M + "endpointslice_endpoint_conditions_ready": "true",
        M + "endpointslice_endpoint_conditions_serving": "true",
        M + "endpointslice_endpoint_conditions_terminating": "false",
        M + "endpointslice_address_target_kind": "Pod",
        M + "endpointslice_address_target_name": "web-7d4b9c-x2kqp",
        M + "endpointslice_endpoint_node_name": "ip-10-0-1-17.eu-west-1.compute.internal",
        M + "endpointslice_endpoint_zone": "eu-west-1a",
        M + "endpointslice_endpoint_topology_kubernetes_io_hostname": "ip-10-0-1-17",
        M + "endpointslice_endpoint_topology_present_kubernetes_io_hostname": "true",
    }
    assert first_target[M + "pod_name"] == "web-7d4b9c-x2kqp"
    assert first_target[M + "pod_container_name"] == "app"
    assert first_target[M + "pod_container_port_name"] == "http"
    assert by_address["10.0.4.8:8080"][M + "endpointslice_endpoint_conditions_ready"] == "false"
    # and the first pod's other ports become targets with the pod's labels alone.
    extra = by_address["10.0.3.21:9102"]
    assert extra[M + "pod_container_port_number"] == "9102" and extra[M + "pod_name"] == "web-7d4b9c-x2kqp"
    assert not any(k.startswith(M + "endpointslice_") for k in extra)
    assert set(by_address) == {"10.0.3.21:8080", "10.0.4.8:8080", "10.0.3.21:9102", "10.0.3.21:9000"}


def test_a_dual_stack_services_secondary_slice_gives_no_targets() -> None:
    # Given a PreferDualStack service (IPv4 first) and its IPv6 slice, then that slice has no targets.
    svc = k8s.service("web", "shop", [("http", 80, 8080)], cluster_ip="172.20.14.3", dual_stack=("IPv4", "IPv6"))
    v6 = k8s.endpoint_slice("web-v6", "shop", "web", ports=[("http", 8080)], address_type="IPv6",
                            endpoints=[{"ip": "2600:1f18::1", "pod": "p", "node": "n"}])
    v4 = k8s.endpoint_slice("web-v4", "shop", "web", ports=[("http", 8080)],
                            endpoints=[{"ip": "10.0.3.21", "pod": "p", "node": "n"}])
    six, four = endpointslice_groups([v6, v4], [svc], [], Related())
    assert six.targets == () and six.labels[M + "service_name"] == "web"
    assert [t["__address__"] for t in four.targets] == ["10.0.3.21:8080"]


def test_endpoints_role_marks_ready_and_not_ready_addresses() -> None:
    # Given an Endpoints object with a ready and a not-ready address, and its service,
    svc = k8s.service("web", "shop", [("http", 80, 8080)], cluster_ip="172.20.14.3")
    eps = k8s.endpoints("web", "shop", ports=[("http", 8080)],
                        ready=[{"ip": "10.0.3.21", "pod": "web-7d4b9c-x2kqp", "node": "n1"}],
                        not_ready=[{"ip": "10.0.4.8", "pod": "gone", "node": "n2"}])
    (group,) = endpoints_groups([eps], [svc], [_web_pod()], Related())
    targets = {t["__address__"]: dict(t) for t in group.targets}
    # then each address is a target with the endpoint's labels, ready true or false,
    assert group.labels[M + "endpoints_name"] == "web" and group.labels[M + "service_name"] == "web"
    assert {k: v for k, v in targets["10.0.4.8:8080"].items() if k != "__address__"} == {
        M + "endpoint_port_name": "http", M + "endpoint_port_protocol": "TCP", M + "endpoint_ready": "false",
        M + "endpoint_address_target_kind": "Pod", M + "endpoint_address_target_name": "gone",
        M + "endpoint_node_name": "n2",
    }
    # and an address backed by a known pod gets the pod's and its container port's labels.
    assert targets["10.0.3.21:8080"][M + "endpoint_ready"] == "true"
    assert targets["10.0.3.21:8080"][M + "pod_container_port_name"] == "http"
    assert targets["10.0.3.21:8080"][M + "pod_controller_name"] == "web-7d4b9c"


def test_service_role_per_type() -> None:
    # Given a ClusterIP, an ExternalName and a LoadBalancer service,
    services = [
        k8s.service("web", "shop", [("http", 80, 8080), ("metrics", 9102, 9102)], cluster_ip="172.20.14.3"),
        k8s.service("payments", "shop", [("https", 443, 443)], cluster_ip="", kind="ExternalName",
                    external_name="api.payments.example"),
        k8s.service("edge", "shop", [("https", 443, 8443)], cluster_ip="172.20.1.9", kind="LoadBalancer",
                    load_balancer=["52.18.3.4", "52.18.3.5"]),
    ]
    web, payments, edge = service_groups(services, Related())
    # then a target per port at the service's DNS name, with its type's labels.
    assert [dict(t) for t in web.targets][1] == {
        "__address__": "web.shop.svc:9102", M + "service_port_name": "metrics", M + "service_port_number": "9102",
        M + "service_port_protocol": "TCP", M + "service_type": "ClusterIP", M + "service_cluster_ip": "172.20.14.3",
    }
    assert web.source == "svc/shop/web" and web.labels[M + "service_name"] == "web"
    assert payments.targets[0][M + "service_external_name"] == "api.payments.example"
    assert M + "service_cluster_ip" not in payments.targets[0]
    assert edge.targets[0][M + "service_loadbalancer_ip"] == "52.18.3.4,52.18.3.5"


def test_node_role_address_order_conditions_and_instance() -> None:
    # Given a node with InternalIP, ExternalIP and names, and one with only a Hostname,
    first = k8s.node("ip-10-0-1-17.eu-west-1.compute.internal", "10.0.1.17", external_ip="34.240.1.2",
                     kubelet_port=10250)
    second = k8s.node("edge-1", "10.0.9.9")
    second["status"]["addresses"] = [{"type": "Hostname", "address": "edge-1"}]
    groups = node_groups([first, second])
    # then the address is InternalIP (else the next type in Prometheus' order) with the kubelet
    # port, instance is the node name, and conditions and addresses are labels.
    target = dict(groups[0].targets[0])
    assert target["__address__"] == "10.0.1.17:10250"
    assert target["instance"] == "ip-10-0-1-17.eu-west-1.compute.internal"
    assert target[M + "node_address_ExternalIP"] == "34.240.1.2"
    assert target[M + "node_address_InternalDNS"] == "ip-10-0-1-17.eu-west-1.compute.internal"
    assert groups[0].labels[M + "node_condition_ready"] == "true"
    assert groups[0].labels[M + "node_condition_memorypressure"] == "false"
    assert groups[0].labels[M + "node_provider_id"].startswith("aws:///eu-west-1a/i-0")
    assert groups[0].labels[M + "node_label_kubernetes_io_os"] == "linux"
    assert groups[1].targets[0]["__address__"] == "edge-1:10250"


def test_ingress_role_scheme_from_tls_hosts_and_paths() -> None:
    # Given an ingress with a wildcard TLS host, a plain host, and a rule without http paths,
    ing = k8s.ingress("shop", "shop", tls_hosts=["*.shop.example"], rules=[
        {"host": "www.shop.example", "http": {"paths": [{"path": "/", "pathType": "Prefix"},
                                                          {"path": "/api", "pathType": "Prefix"}]}},
        {"host": "status.example", "http": {"paths": [{"pathType": "ImplementationSpecific"}]}},
        {"host": "bare.example"},
    ])
    (group,) = ingress_groups([ing], Related())
    # then https where a TLS host covers the rule, a target per path ("/" when none).
    assert [(t["__address__"], t[M + "ingress_scheme"], t[M + "ingress_path"]) for t in group.targets] == [
        ("www.shop.example", "https", "/"), ("www.shop.example", "https", "/api"),
        ("status.example", "http", "/"), ("bare.example", "http", "/"),
    ]
    assert group.labels[M + "ingress_class_name"] == "alb" and group.labels[M + "ingress_name"] == "shop"


def test_odd_shapes_are_read_as_absent_fields_not_errors() -> None:
    # Given objects with fields of the wrong type (a hostile or broken API answer),
    weird = {"metadata": {"name": 7, "labels": {"a": 1, "b": "x"}, "ownerReferences": "no"},
             "spec": {"containers": ["x", {"name": "c", "ports": [{"containerPort": "80"}, {"containerPort": 70000},
                                                                 {"containerPort": True}, {"containerPort": 81}]}]},
             "status": {"podIP": "10.0.0.1", "conditions": None}}
    # then translation keeps what is valid and skips the rest.
    (group,) = pod_groups([weird], Related())
    assert [t["__address__"] for t in group.targets] == ["10.0.0.1:81"]
    assert group.labels[M + "pod_label_b"] == "x" and M + "pod_label_a" not in group.labels
    assert node_groups([{"metadata": None, "status": {"addresses": "x"}}])[0].targets == ()
