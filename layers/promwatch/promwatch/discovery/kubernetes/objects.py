"""Reading Kubernetes API objects (JSON as the API server returns it) into ``__meta_kubernetes_*``
labels: the pieces every role shares (pure).

An API answer is read defensively: a field of the wrong type is treated as absent rather than
failing the whole discovery, as one odd object should not hide a cluster's other targets. As in
Prometheus, a label may be given an empty value: the scrape domain treats an empty value as an
absent label.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from promwatch.discovery.model import sanitize_label_name

META = "__meta_kubernetes_"
NAMESPACE_LABEL = META + "namespace"
PRESENT = "true"


Obj = Mapping[str, Any]
"""One API object (a Pod, a Service...) as decoded JSON."""


def field(obj: Any, *path: str) -> Any:
    """The value at ``path`` (``"spec", "nodeName"``), or None where an object is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *path: str) -> str:
    """The string at ``path``, or ``""``."""
    value = field(obj, *path)
    return value if isinstance(value, str) else ""


def optional_text(obj: Any, *path: str) -> str | None:
    """The string at ``path``, or None when absent (a Go ``*string``)."""
    value = field(obj, *path)
    return value if isinstance(value, str) else None


def optional_bool(obj: Any, *path: str) -> bool | None:
    """The boolean at ``path``, or None when absent (a Go ``*bool``)."""
    value = field(obj, *path)
    return value if isinstance(value, bool) else None


def port_number(value: Any) -> int | None:
    """A port number (an integer 0-65535), or None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    return None


def objects(obj: Any, *path: str) -> list[Obj]:
    """The mappings in the list at ``path`` (other entries skipped)."""
    value = field(obj, *path)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def strings(obj: Any, *path: str) -> list[str]:
    """The strings in the list at ``path``."""
    value = field(obj, *path)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def string_map(obj: Any, *path: str) -> dict[str, str]:
    """The ``string -> string`` entries of the mapping at ``path`` (labels, annotations)."""
    value = field(obj, *path)
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def name_of(obj: Obj) -> str:
    """``metadata.name``."""
    return text(obj, "metadata", "name")


def namespace_of(obj: Obj) -> str:
    """``metadata.namespace``."""
    return text(obj, "metadata", "namespace")


def namespaced(namespace: str, name: str) -> str:
    """``namespace/name``: how objects are looked up (Prometheus' store keys)."""
    return f"{namespace}/{name}"


def key_of(obj: Obj) -> str:
    """``namespace/name`` of ``obj``."""
    return namespaced(namespace_of(obj), name_of(obj))


def by_key(items: Iterable[Obj]) -> dict[str, Obj]:
    """Namespaced objects by ``namespace/name``."""
    return {key_of(item): item for item in items}


def by_name(items: Iterable[Obj]) -> dict[str, Obj]:
    """Cluster-scoped objects (nodes, namespaces) by name."""
    return {name_of(item): item for item in items}


def add_labels_and_annotations(labels: dict[str, str], obj: Obj, resource: str) -> None:
    """``<resource>_label_<name>``, ``_labelpresent_``, ``_annotation_``, ``_annotationpresent_``."""
    prefix = META + resource
    for name, value in string_map(obj, "metadata", "labels").items():
        clean = sanitize_label_name(name)
        labels[f"{prefix}_label_{clean}"] = value
        labels[f"{prefix}_labelpresent_{clean}"] = PRESENT
    for name, value in string_map(obj, "metadata", "annotations").items():
        clean = sanitize_label_name(name)
        labels[f"{prefix}_annotation_{clean}"] = value
        labels[f"{prefix}_annotationpresent_{clean}"] = PRESENT


def add_object_meta(labels: dict[str, str], obj: Obj, resource: str) -> None:
    """``<resource>_name`` and the object's labels and annotations (Prometheus' addObjectMetaLabels)."""
    labels[f"{META}{resource}_name"] = name_of(obj)
    add_labels_and_annotations(labels, obj, resource)


def object_labels(obj: Obj, resource: str) -> dict[str, str]:
    """The object's namespace and its :func:`add_object_meta` labels."""
    labels = {NAMESPACE_LABEL: namespace_of(obj)}
    add_object_meta(labels, obj, resource)
    return labels


def group_labels(obj: Obj, resource: str, related: Related) -> dict[str, str]:
    """A namespaced object's group labels: :func:`object_labels` and its namespace's
    (:func:`namespace_labels`)."""
    labels = object_labels(obj, resource)
    labels.update(namespace_labels(related, labels[NAMESPACE_LABEL]))
    return labels


def controller_of(obj: Obj) -> Obj | None:
    """The owner reference marked ``controller: true``, if any."""
    for reference in objects(obj, "metadata", "ownerReferences"):
        if reference.get("controller") is True:
            return reference
    return None


@dataclass(frozen=True, slots=True)
class Related:
    """Objects a role's targets are joined with (``attach_metadata``); None: not attached.

    Attributes
    ----------
    nodes
        Nodes by name (``attach_metadata.node``): node labels, and pods on other nodes dropped.
    namespaces
        Namespaces by name (``attach_metadata.namespace``).
    replicasets
        ReplicaSets by ``namespace/name`` (``attach_metadata.deployment``).
    jobs
        Jobs by ``namespace/name`` (``attach_metadata.cronjob``).
    job_names
        ``attach_metadata.job``: a pod controlled by a Job gets ``__meta_kubernetes_pod_job_name``.
    """

    nodes: Mapping[str, Obj] | None = None
    namespaces: Mapping[str, Obj] | None = None
    replicasets: Mapping[str, Obj] | None = None
    jobs: Mapping[str, Obj] | None = None
    job_names: bool = False


def _attached(found_in: Mapping[str, Obj] | None, key: str | None) -> Obj | None:
    """The related object named ``key``; None when its kind is not attached, or it is not found."""
    return found_in.get(key) if found_in is not None and key is not None else None


def node_labels(related: Related, node_name: str | None) -> dict[str, str]:
    """The node's name, labels and annotations (Prometheus' addNodeLabels); none when not attached
    or not found."""
    labels: dict[str, str] = {}
    node = _attached(related.nodes, node_name)
    if node is not None:
        add_object_meta(labels, node, "node")
    return labels


def namespace_labels(related: Related, namespace: str) -> dict[str, str]:
    """The namespace's labels and annotations (its name is ``__meta_kubernetes_namespace`` already)."""
    labels: dict[str, str] = {}
    found = _attached(related.namespaces, namespace)
    if found is not None:
        add_labels_and_annotations(labels, found, "namespace")
    return labels
