"""POST /graphql: validate every document against GitHub's schema, then execute it on the state.

Execution runs graphql-core against the real schema with one generic resolver over the dict views
in graphql_views.py, so the response shape (aliases, fragments, variables) is exactly what the
schema says. Mutations implemented: addProjectV2ItemById, updateProjectV2ItemFieldValue,
clearProjectV2ItemFieldValue, deleteProjectV2Item, createDiscussion.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import graphql as gql
from graphql import GraphQLError

from . import spec
from .auth import Token
from .context import Reply
from .graphql_views import Views, not_found
from .recording import Call
from .state import Discussion, Issue, Project, ProjectItem, make_node_id, now_iso

if TYPE_CHECKING:
    from .server import FakeGitHub


@lru_cache(maxsize=1)
def schema() -> gql.GraphQLSchema:
    built = gql.build_client_schema(spec.graphql_introspection())
    # GitHub's schema breaks two of graphql-core's own schema rules; documents still validate.
    built._validation_errors = []
    return built


@lru_cache(maxsize=512)
def _parse_and_validate(query: str) -> tuple[gql.DocumentNode | None, tuple[str, ...]]:
    try:
        document = gql.parse(query)
    except GraphQLError as err:
        return None, (err.message,)
    errors = gql.validate(schema(), document)
    return document, tuple(e.message for e in errors)


def _resolve(source: Any, info: gql.GraphQLResolveInfo, **args: Any) -> Any:
    if not isinstance(source, dict):
        return getattr(source, info.field_name, None)
    if info.field_name not in source:
        info.context["fake"].violation(
            f"fake GraphQL does not implement {info.parent_type.name}.{info.field_name}")
        return None
    value = source[info.field_name]
    return value(**args) if callable(value) else value


def _type_of(value: Any, info: gql.GraphQLResolveInfo, abstract: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


class Mutations:
    def __init__(self, fake: "FakeGitHub", views: Views) -> None:
        self.fake, self.state, self.views = fake, fake.state, views

    def _project(self, project_id: str) -> Project:
        project = self.state.nodes.get(project_id)
        if not isinstance(project, Project):
            raise not_found("ProjectV2", f"id {project_id}")
        return project

    def add_item(self, input: dict[str, Any]) -> dict[str, Any]:
        project = self._project(input["projectId"])
        content = self.state.nodes.get(input["contentId"])
        if not isinstance(content, Issue):
            raise GraphQLError(f"Could not resolve to a node with the global id of '{input['contentId']}'",
                               extensions={"type": "NOT_FOUND"})
        # GitHub returns the existing item when the content is already on the board.
        item = next((it for it in project.items if it.content_id == content.node_id), None)
        if item is None:
            item = ProjectItem(id=make_node_id("PVTI", self.state.next_id()), content_id=content.node_id)
            project.items.append(item)
        return {"item": self.views.item(project, item), "clientMutationId": input.get("clientMutationId")}

    def delete_item(self, input: dict[str, Any]) -> dict[str, Any]:
        project = self._project(input["projectId"])
        item = next((it for it in project.items if it.id == input["itemId"]), None)
        if item is None:
            raise GraphQLError(f"Could not resolve to ProjectV2Item with the id {input['itemId']}.",
                               extensions={"type": "NOT_FOUND"})
        project.items.remove(item)
        return {"deletedItemId": item.id, "clientMutationId": input.get("clientMutationId")}

    def _item_and_field(self, input: dict[str, Any]) -> tuple[Project, ProjectItem, Any]:
        project = self._project(input["projectId"])
        item = next((it for it in project.items if it.id == input["itemId"]), None)
        if item is None:
            raise GraphQLError(f"Could not resolve to ProjectV2Item with the id {input['itemId']}.",
                               extensions={"type": "NOT_FOUND"})
        field = next((f for f in project.fields.values() if f.id == input["fieldId"]), None)
        if field is None:
            raise GraphQLError(f"Could not resolve to a ProjectV2Field with the id {input['fieldId']}.",
                               extensions={"type": "NOT_FOUND"})
        return project, item, field

    def update_value(self, input: dict[str, Any]) -> dict[str, Any]:
        project, item, field = self._item_and_field(input)
        value = input["value"]
        if field.data_type == "SINGLE_SELECT":
            option = value.get("singleSelectOptionId")
            if option not in field.options.values():
                raise GraphQLError("The single select option Id does not belong to the field",
                                   extensions={"type": "UNPROCESSABLE"})
            item.values[field.id] = option
        else:
            if "text" not in value:
                raise GraphQLError(f"Field {field.name} expects a text value",
                                   extensions={"type": "UNPROCESSABLE"})
            item.values[field.id] = value["text"]
        return {"projectV2Item": self.views.item(project, item),
                "clientMutationId": input.get("clientMutationId")}

    def clear_value(self, input: dict[str, Any]) -> dict[str, Any]:
        project, item, field = self._item_and_field(input)
        item.values.pop(field.id, None)
        return {"projectV2Item": self.views.item(project, item),
                "clientMutationId": input.get("clientMutationId")}

    def create_discussion(self, input: dict[str, Any]) -> dict[str, Any]:
        repo = self.state.nodes.get(input["repositoryId"])
        if repo is None or not hasattr(repo, "discussion_categories"):
            raise not_found("Repository", f"id {input['repositoryId']}")
        if not any(c.id == input["categoryId"] for c in repo.discussion_categories):
            raise GraphQLError("Could not resolve to a DiscussionCategory", extensions={"type": "NOT_FOUND"})
        number = repo.next_number
        repo.next_number += 1
        discussion = Discussion(id=make_node_id("D", self.state.next_id()), number=number,
                                repo=repo.full_name, title=input["title"], body=input["body"],
                                category_id=input["categoryId"], user=self.fake.bot_login,
                                created_at=now_iso())
        repo.discussions.append(discussion)
        self.state.nodes[discussion.id] = discussion
        return {"discussion": self.views.discussion(discussion),
                "clientMutationId": input.get("clientMutationId")}


def _root(fake: "FakeGitHub", views: Views) -> dict[str, Any]:
    state = fake.state
    mutations = Mutations(fake, views)

    def repository(owner: str, name: str, **_: Any) -> dict[str, Any]:
        repo = state.repo(f"{owner}/{name}")  # any case, as on GitHub
        if repo is None:
            raise not_found("Repository", f"name '{owner}/{name}'")
        return views.repo(repo)

    def owner_of(kind: str, login: str) -> dict[str, Any]:
        user = state.user(login)
        if user is None or (kind == "Organization") != (user.type == "Organization"):
            raise not_found(kind, f"login '{login}'")
        return views.owner(user.login)

    return {
        "repository": repository,
        "organization": lambda login: owner_of("Organization", login),
        "user": lambda login: owner_of("User", login),
        "repositoryOwner": lambda login: views.owner(state.login(login)) if state.user(login) else None,
        "node": lambda id: views.node(id),
        "nodes": lambda ids: [views.node(i) for i in ids],
        "rateLimit": lambda dryRun=False: {"cost": 1, "limit": 5000, "remaining": 4999, "used": 1,
                                           "nodeCount": 1, "resetAt": now_iso()},
        "addProjectV2ItemById": lambda input: mutations.add_item(input),
        "updateProjectV2ItemFieldValue": lambda input: mutations.update_value(input),
        "clearProjectV2ItemFieldValue": lambda input: mutations.clear_value(input),
        "deleteProjectV2Item": lambda input: mutations.delete_item(input),
        "createDiscussion": lambda input: mutations.create_discussion(input),
    }


def _first_field(document: gql.DocumentNode, operation_name: str | None) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, gql.OperationDefinitionNode) and (
                operation_name is None or (definition.name and definition.name.value == operation_name)):
            for selection in definition.selection_set.selections:
                if isinstance(selection, gql.FieldNode):
                    return selection.name.value
    return None


async def answer_graphql(fake: "FakeGitHub", body: Any, token: Token, call: Call) -> Reply:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        fake.violation("POST /graphql: body must be a JSON object with a string `query`")
        return Reply(status=400, json={"message": "A query attribute must be specified and must be a string."})
    document, errors = _parse_and_validate(body["query"])
    if document is not None:
        call.graphql_operation = _first_field(document, body.get("operationName"))
    if errors:
        fake.violation("GraphQL document invalid: " + "; ".join(errors))
        return Reply(json={"errors": [{"message": m, "extensions": {"code": "graphqlValidationError"}}
                                      for m in errors]})
    views = Views(fake)
    result = gql.execute(schema(), document, root_value=_root(fake, views),
                         context_value={"fake": fake, "token": token},
                         variable_values=body.get("variables") or {},
                         operation_name=body.get("operationName"),
                         field_resolver=_resolve, type_resolver=_type_of)
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [{"message": e.message, "path": e.path, "type": (e.extensions or {}).get("type"),
                          "locations": [{"line": loc.line, "column": loc.column} for loc in e.locations or []]}
                         for e in result.errors]
        for e in result.errors:
            if not (e.extensions or {}).get("type"):
                fake.violation(f"GraphQL execution error: {e.message} at {e.path}")
    return Reply(json=out)
