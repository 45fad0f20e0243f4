"""The only place the bot talks to GitHub: App auth, token cache, retries, pacing, ETags, metrics.

    gh = GitHub(session, app_id=..., private_key=..., metrics=metrics)
    api = await gh.installation(installation_id)
    await api.getitem("/repos/{owner}/{repo}", {"owner": o, "repo": r})
"""
from .client import InstallationAPI
from .errors import (GitHubError, InstallationGone, InstallationSuspended, InstallationUnavailable,
                     PermanentGitHubError, RateLimited, TransientGitHubError)
from .hub import GitHub

__all__ = ["GitHub", "InstallationAPI", "GitHubError", "TransientGitHubError",
           "PermanentGitHubError", "RateLimited", "InstallationGone", "InstallationSuspended",
           "InstallationUnavailable"]
