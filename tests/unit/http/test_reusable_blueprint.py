from chalice import Chalice

from chalicelib.http.blueprint import ReusableBlueprint


def make_blueprint():
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/things", methods=["POST"], content_types=["text/plain"])
    def create_thing():
        return {}

    return blueprint


def test_a_second_app_gets_the_same_methods_and_content_types():
    blueprint = make_blueprint()
    first, second = Chalice(app_name="first"), Chalice(app_name="second")
    first.register_blueprint(blueprint)
    second.register_blueprint(blueprint)
    for app in (first, second):
        assert list(app.routes["/things"]) == ["POST"]
        assert app.routes["/things"]["POST"].content_types == ["text/plain"]
