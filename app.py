"""The Chalice app: routes and registrations only; the work lives in chalicelib."""
from chalice import Chalice

from chalicelib import health
from chalicelib.http.routing import answer_wrong_methods_with_405
from chalicelib.incidents import routes as incident_routes
from chalicelib.incidents.adapters import connect_breakers_to_incidents
from chalicelib.observability.middleware import http_middleware
from chalicelib.resilience import routes as resilience_routes
from chalicelib.settings import get_settings
from chalicelib.slo import routes as slo_routes
from chalicelib.users import http as users
from chalicelib.users.service import get_user_service
from chalicelib.web.openapi import openapi_response

app = Chalice(app_name="serverless-sre")
app.register_middleware(http_middleware, "http")
connect_breakers_to_incidents()


@app.route("/", methods=["GET"])
def index():
    return users.index_page(get_user_service())


@app.route("/user", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def submit_user():
    return users.submit_user_form(get_user_service(), app.current_request)


@app.route("/api/users", methods=["GET"])
def list_users():
    return users.list_users(get_user_service(), app.current_request)


@app.route("/api/users", methods=["POST"])
def create_user():
    return users.create_user(get_user_service(), app.current_request)


@app.route("/api/users/{user_id}", methods=["GET"])
def get_user(user_id):
    return users.get_user(get_user_service(), user_id)


@app.route("/api/users/{user_id}", methods=["PUT"])
def update_user(user_id):
    return users.update_user(get_user_service(), app.current_request, user_id)


@app.route("/api/users/{user_id}", methods=["DELETE"])
def delete_user(user_id):
    return users.delete_user(get_user_service(), user_id)


@app.route("/health", methods=["GET"])
def health_check():
    return health.health(get_user_service().ping)


@app.route("/health/ready", methods=["GET"])
def health_ready():
    return health.ready(get_user_service().ping)


@app.route("/health/live", methods=["GET"])
def health_live():
    return health.live()


@app.route("/openapi.json", methods=["GET"])
def openapi():
    return openapi_response()


app.register_blueprint(slo_routes.blueprint)
app.register_blueprint(resilience_routes.blueprint)
app.register_blueprint(incident_routes.blueprint)
if get_settings().local_fault_control:  # local stack only: DynamoDB fault switch below the breaker
    app.register_blueprint(resilience_routes.local_faults_blueprint)
if get_settings().local_webhook_receiver:  # local stack only: see the webhook flow end to end
    from chalicelib.webhooks import routes as webhook_routes

    app.register_blueprint(webhook_routes.blueprint)

answer_wrong_methods_with_405(app)
