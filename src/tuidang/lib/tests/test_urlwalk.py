from django.urls import resolve

from tuidang.lib.tests.urlwalk import walk_urls


def test_every_walked_url_resolves_to_its_own_pattern() -> None:
    for endpoint in walk_urls():
        assert resolve(endpoint.url).func is endpoint.callback, endpoint.key


def test_it_walks_includes_the_admin_and_the_simulated_network() -> None:
    keys = {endpoint.key for endpoint in walk_urls()}
    assert {"public:home", "desk:desk", "admin:index", "simulator:caller"} <= keys
    assert "admin:volunteers_volunteer_change" in keys


def test_every_endpoint_has_a_unique_key() -> None:
    keys = [endpoint.key for endpoint in walk_urls()]
    assert len(keys) == len(set(keys))


def test_it_fills_arguments_with_samples_or_given_values() -> None:
    by_key = {endpoint.key: endpoint for endpoint in walk_urls(samples={"call_id": "42"})}
    assert by_key["desk:record-declarations"].url == "/desk/calls/42/declarations"
    assert by_key["tlog:tile"].url == "/log/tile/1/1"
    assert by_key["admin:app_list"].url == "/admin/auth/"


def test_it_knows_the_methods_a_view_declares() -> None:
    by_key = {endpoint.key: endpoint for endpoint in walk_urls()}
    assert by_key["desk:presence"].methods == frozenset({"POST"})
    assert not by_key["desk:presence"].allows("GET")
    assert by_key["set_language"].methods is None
