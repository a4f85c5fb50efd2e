/// The values control-planes-v2 allows for a control plane's `cluster_type` and `auth_type`.
public enum ControlPlaneTypes {
    public static let controlPlane = "CLUSTER_TYPE_CONTROL_PLANE"
    public static let group = "CLUSTER_TYPE_CONTROL_PLANE_GROUP"

    public static let clusterTypes = [
        controlPlane, "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER", group, "CLUSTER_TYPE_SERVERLESS",
        "CLUSTER_TYPE_KAFKA_NATIVE_EVENT_PROXY", "CLUSTER_TYPE_SERVERLESS_V1",
    ]
    public static let authTypes = ["pinned_client_certs", "pki_client_certs"]
}
