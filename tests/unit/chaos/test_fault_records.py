"""The fault record as every process reads it: one golden JSON."""
from chalicelib.chaos.model import FaultRecord
from tests.support.golden import check_golden, golden


def test_the_fault_record_matches_its_golden_json():
    record = FaultRecord(fault_id="exp-0123456789ab#0", experiment_id="exp-0123456789ab", kind="dynamodb_error",
                         target="database", magnitude=0.0, blast_radius_pct=50.0, expires_at=1767603600.0,
                         operations=("GetItem",))
    check_golden("chaos_fault", record.to_json())


def test_the_golden_fault_record_reads_back():
    assert FaultRecord.from_json(golden("chaos_fault")).to_json() == golden("chaos_fault")


def test_a_star_route_fault_spares_the_control_plane_and_probes_unless_it_names_them():
    star = FaultRecord.from_json({**golden("chaos_fault"), "kind": "route_error", "target": "*"})
    assert star.applies_to_route("/api/users")
    assert not star.applies_to_route("/sre/chaos/experiments")
    assert not star.applies_to_route("/health/ready")
    named = FaultRecord.from_json({**golden("chaos_fault"), "kind": "route_latency", "target": "/health/ready"})
    assert named.applies_to_route("/health/ready") and not named.applies_to_route("/health")


def test_no_route_fault_touches_the_chaos_endpoints_even_when_it_names_them():
    """A record written before the definition check refused it still leaves the stop route alone."""
    named = FaultRecord.from_json({**golden("chaos_fault"), "kind": "route_error",
                                   "target": "/sre/chaos/experiments/{experiment_id}/stop"})
    assert not named.applies_to_route("/sre/chaos/experiments/{experiment_id}/stop")
