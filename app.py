"""The Chalice app: routes and registrations only; the work lives in chalicelib, wired in
``chalicelib.wiring``."""
from chalice import Chalice

from chalicelib import health, wiring
from chalicelib.capacity import routes as capacity_routes
from chalicelib.chaos import routes as chaos_routes
from chalicelib.dashboard import routes as dashboard_routes
from chalicelib.http.routing import answer_wrong_methods_with_405, take_over_media_type_checks
from chalicelib.incidents import routes as incident_routes
from chalicelib.observability.middleware import http_middleware
from chalicelib.resilience import routes as breaker_routes
from chalicelib.slo import routes as slo_routes
from chalicelib.users import routes as user_routes
from chalicelib.web.openapi import openapi_response

app = Chalice(app_name="serverless-sre")
app.register_middleware(http_middleware, "http")


@app.route("/health", methods=["GET"])
def health_check():
    current = wiring.current()
    return health.health(current.user_service.ping, open_breakers=current.breakers.open_breakers)


@app.route("/health/ready", methods=["GET"])
def health_ready():
    return health.ready(wiring.current().user_service.ping)


@app.route("/health/live", methods=["GET"])
def health_live():
    return health.live()


@app.route("/openapi.json", methods=["GET"])
def openapi():
    return openapi_response()


app.register_blueprint(user_routes.build_blueprint(wiring.current))
app.register_blueprint(slo_routes.build_blueprint(wiring.current))
app.register_blueprint(breaker_routes.build_blueprint(wiring.current))
app.register_blueprint(incident_routes.build_blueprint(wiring.current))
app.register_blueprint(capacity_routes.build_blueprint(wiring.current))
app.register_blueprint(chaos_routes.build_blueprint(wiring.current))
app.register_blueprint(dashboard_routes.build_blueprint(wiring.current))

take_over_media_type_checks(app)
answer_wrong_methods_with_405(app)
