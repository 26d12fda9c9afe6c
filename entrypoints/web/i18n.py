"""English and French strings of the web UI; every user-visible text goes through `t`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    "app.title": "Breastscan",
    "app.notice": "Decision aid — not a diagnosis. Every result must be confirmed by a clinician.",
    "nav.analyze": "Analyze",
    "nav.history": "History",
    "nav.dashboard": "Dashboard",
    "nav.model": "Model",
    "nav.admin": "Admin",
    "header.sign_out": "Sign out",
    "header.language": "Language",
    "role.clinician": "Clinician",
    "role.admin": "Administrator",
    # sign in / create account
    "auth.sign_in": "Sign in",
    "auth.create_account": "Create account",
    "auth.email": "Email",
    "auth.password": "Password",
    "auth.display_name": "Name (optional)",
    "auth.no_account": "No account yet? Create one",
    "auth.have_account": "Already registered? Sign in",
    "auth.session_expired": "You were signed out because your session expired. "
    "Please sign in again.",
    "auth.signed_out": "You are signed out.",
    "auth.account_created": "Account created. You can now sign in.",
    "auth.registration_closed": "Self-registration is disabled; "
    "ask an administrator for an account.",
    "auth.fill_in": "Enter your email and password.",
    # analyze
    "analyze.title": "Analyze ultrasound images",
    "analyze.hint": "Drop or pick one or more PNG or JPEG images (at most {size}). "
    "Each result is stored in your history.",
    "analyze.upload_label": "Ultrasound images",
    "analyze.status.queued": "Waiting…",
    "analyze.status.running": "Analysing…",
    "analyze.status.done": "Done",
    "analyze.status.failed": "Refused",
    "analyze.too_large": "The file is larger than the {size} limit.",
    "analyze.batch_done": "{ok} of {total} image(s) analysed.",
    "result.probability": "Probability of malignancy",
    "result.threshold": "Decision threshold",
    "result.model_version": "Model version",
    "result.malignant": "Suspicious for malignancy — recommend follow-up",
    "result.benign": "No malignancy suspected at the model's operating point",
    "result.heatmap": "Show heatmap",
    "result.opacity": "Heatmap opacity",
    "result.original": "Original",
    "result.overlay": "Model attention (heatmap)",
    "result.open": "Open details",
    "result.bar_caption": "{p} — decision threshold (black mark) {t}",
    "result.outline": "Show lesion outline",
    "result.outlined": "Original with the lesion outline",
    "result.lesion_area": "Lesion outlined: {share} of the analysed area",
    "result.lesion_area_mm2": "Lesion outlined: {share} of the analysed area ({mm2} mm²)",
    "result.no_lesion": "The model outlined no lesion",
    "result.legend": "Heatmap colours",
    "result.legend_low": "low attention",
    "result.legend_high": "high attention",
    # history
    "history.title": "History",
    "history.empty": "No analyses match these filters.",
    "history.col.created": "Date",
    "history.col.filename": "File",
    "history.col.probability": "P(malignant)",
    "history.col.label": "Result",
    "history.col.reviewed": "Review",
    "history.col.owner": "Owner",
    "history.filter.label": "Result",
    "history.filter.any": "Any",
    "history.filter.from": "From (YYYY-MM-DD)",
    "history.filter.to": "To (YYYY-MM-DD)",
    "history.filter.reviewed": "Review status",
    "history.filter.reviewed_yes": "Reviewed",
    "history.filter.reviewed_no": "Not reviewed",
    "history.filter.search": "Search file name",
    "history.filter.apply": "Apply filters",
    "history.export": "Export CSV",
    "history.page": "Page {page} of {pages} ({total} analyses)",
    "history.prev": "Previous",
    "history.next": "Next",
    "history.bad_date": "Dates must look like 2025-01-31.",
    "label.malignant": "Suspicious",
    "label.benign": "Not suspicious",
    "review.agree": "Agrees",
    "review.disagree": "Disagrees",
    "review.none": "Not reviewed",
    # detail
    "detail.title": "Analysis of {filename}",
    "detail.created": "Analysed at",
    "detail.reviewed_at": "Reviewed at",
    "detail.review": "Clinician review",
    "detail.review_hint": "Your review is recorded next to the model's result, "
    "which is never changed.",
    "detail.verdict": "Your verdict",
    "detail.agree": "I agree with the model",
    "detail.disagree": "I disagree with the model",
    "detail.note": "Note (optional)",
    "detail.save_review": "Save review",
    "detail.review_saved": "Review saved.",
    "detail.current_review": "Current review: {verdict}",
    "detail.delete": "Delete analysis",
    "detail.delete_confirm": "Delete this analysis and its image? This cannot be undone.",
    "detail.cancel": "Cancel",
    "detail.deleted": "Analysis deleted.",
    "detail.choose_verdict": "Choose agree or disagree first.",
    # dashboard
    "dashboard.title": "Dashboard",
    "dashboard.total": "Analyses",
    "dashboard.malignant_share": "Suspicious share",
    "dashboard.reviewed_share": "Reviewed share",
    "dashboard.agreement": "Agreement with the model",
    "dashboard.no_reviews": "no reviews yet",
    "dashboard.labels": "Results",
    "dashboard.per_day": "Analyses per day",
    "dashboard.histogram": "Probability of malignancy",
    "dashboard.count": "Count",
    # model
    "model.title": "Model card",
    "model.version": "Version",
    "model.threshold": "Operating point (threshold)",
    "model.positive_class": "Positive class",
    "model.input_size": "Input size",
    "model.providers": "Runtime",
    "model.metadata": "Metadata",
    "model.card": "Model card document",
    "model.key": "Key",
    "model.value": "Value",
    "model.no_card": "No model card document is available.",
    "model.intended_use": "Intended use: a decision aid that flags breast ultrasound images "
    "for clinician attention. Not a diagnosis, not for screening without clinician review.",
    # admin
    "admin.title": "Administration",
    "admin.refused": "Access refused: this page is for administrators.",
    "admin.users": "Users",
    "admin.audit": "Audit log",
    "admin.col.email": "Email",
    "admin.col.name": "Name",
    "admin.col.role": "Role",
    "admin.col.active": "Active",
    "admin.col.created": "Created",
    "admin.make_admin": "Make admin",
    "admin.make_clinician": "Make clinician",
    "admin.deactivate": "Deactivate",
    "admin.reactivate": "Reactivate",
    "admin.updated": "User updated.",
    "admin.col.at": "Time",
    "admin.col.actor": "User",
    "admin.col.action": "Action",
    "admin.col.target": "Target",
    "admin.col.detail": "Detail",
    "admin.filter.user": "User",
    "admin.filter.action": "Action (e.g. login.success)",
    "admin.filter.from": "From (YYYY-MM-DD)",
    "admin.filter.to": "To (YYYY-MM-DD)",
    "admin.filter.apply": "Filter",
    "admin.yes": "yes",
    "admin.no": "no",
    # errors
    "error.invalid_credentials": "Wrong email or password.",
    "error.too_many_attempts": "Too many failed sign-ins. Try again in {seconds} seconds.",
    "error.not_found": "Not found: it may have been deleted.",
    "error.forbidden": "You are not allowed to do this.",
    "error.conflict": "This conflicts with existing data: {message}",
    "error.invalid_input": "{message}",
    "error.invalid_image": "Not a usable image: {message}",
    "error.model_unavailable": "The model is unavailable right now; try again later.",
    "error.database_unavailable": "The database is unavailable right now; try again shortly.",
    "error.unexpected": "Something went wrong; the error has been logged.",
    # core errors by class, with the detail their message carries
    "error.image.invalid": "This file cannot be used as an image.",
    "error.image.unsupported": "This file is not in an accepted image format.",
    "error.image.too_large": "This image exceeds the size limits.",
    "error.image.too_many_bytes": "{name} is {size} MB; the limit is {limit} MB.",
    "error.image.too_many_pixels": "{name} is {width}x{height} pixels; "
    "the limit is {limit} pixels.",
    "error.image.bomb": "{name} has too many pixels to be decoded safely.",
    "error.image.empty": "{name} is empty.",
    "error.image.not_format": "{name} is not a {formats} image.",
    "error.image.corrupt": "{name} is damaged or truncated and cannot be decoded ({reason}).",
    "error.image.no_pixels": "{name} has no pixels.",
    "error.image.stored_corrupt": "The stored image cannot be decoded ({reason}).",
    "error.input.email": "Enter a valid email address.",
    "error.input.password_short": "Password must be at least {count} characters.",
    "error.input.password_long": "Password must be at most {count} characters.",
    "error.input.password_common": "This password is too common; choose another.",
    "error.input.password_is_email": "The password must not be the email address.",
    "error.input.name_long": "Name must be at most {count} characters.",
    "error.input.note_long": "Note must be at most {count} characters.",
    "error.input.search_long": "Search text must be at most {count} characters.",
    "error.input.date_range": "The start of the date range must lie before its end.",
    "error.input.no_image": "Send at least one image.",
    "error.input.too_many_images": "Send at most {count} images at once.",
    "error.conflict.email_taken": "An account with this email already exists.",
    "error.conflict.last_admin": "This is the last active administrator; "
    "appoint another one first.",
}

FR: dict[str, str] = {
    "app.title": "Breastscan",
    "app.notice": "Aide à la décision — pas un diagnostic. Tout résultat doit être confirmé "
    "par un clinicien.",
    "nav.analyze": "Analyser",
    "nav.history": "Historique",
    "nav.dashboard": "Tableau de bord",
    "nav.model": "Modèle",
    "nav.admin": "Administration",
    "header.sign_out": "Se déconnecter",
    "header.language": "Langue",
    "role.clinician": "Clinicien",
    "role.admin": "Administrateur",
    "auth.sign_in": "Se connecter",
    "auth.create_account": "Créer un compte",
    "auth.email": "E-mail",
    "auth.password": "Mot de passe",
    "auth.display_name": "Nom (facultatif)",
    "auth.no_account": "Pas encore de compte ? En créer un",
    "auth.have_account": "Déjà inscrit ? Se connecter",
    "auth.session_expired": "Vous avez été déconnecté car votre session a expiré. "
    "Veuillez vous reconnecter.",
    "auth.signed_out": "Vous êtes déconnecté.",
    "auth.account_created": "Compte créé. Vous pouvez maintenant vous connecter.",
    "auth.registration_closed": "L'inscription libre est désactivée ; demandez un compte "
    "à un administrateur.",
    "auth.fill_in": "Saisissez votre e-mail et votre mot de passe.",
    "analyze.title": "Analyser des images échographiques",
    "analyze.hint": "Déposez ou choisissez une ou plusieurs images PNG ou JPEG (au plus {size}). "
    "Chaque résultat est enregistré dans votre historique.",
    "analyze.upload_label": "Images échographiques",
    "analyze.status.queued": "En attente…",
    "analyze.status.running": "Analyse en cours…",
    "analyze.status.done": "Terminé",
    "analyze.status.failed": "Refusé",
    "analyze.too_large": "Le fichier dépasse la limite de {size}.",
    "analyze.batch_done": "{ok} image(s) sur {total} analysée(s).",
    "result.probability": "Probabilité de malignité",
    "result.threshold": "Seuil de décision",
    "result.model_version": "Version du modèle",
    "result.malignant": "Suspect de malignité — suivi recommandé",
    "result.benign": "Pas de malignité suspectée au point de fonctionnement du modèle",
    "result.heatmap": "Afficher la carte de chaleur",
    "result.opacity": "Opacité de la carte de chaleur",
    "result.original": "Original",
    "result.overlay": "Attention du modèle (carte de chaleur)",
    "result.open": "Voir le détail",
    "result.bar_caption": "{p} — seuil de décision (trait noir) {t}",
    "result.outline": "Afficher le contour de la lésion",
    "result.outlined": "Original avec le contour de la lésion",
    "result.lesion_area": "Lésion délimitée : {share} de la zone analysée",
    "result.lesion_area_mm2": "Lésion délimitée : {share} de la zone analysée ({mm2} mm²)",
    "result.no_lesion": "Le modèle n'a délimité aucune lésion",
    "result.legend": "Couleurs de la carte de chaleur",
    "result.legend_low": "attention faible",
    "result.legend_high": "attention forte",
    "history.title": "Historique",
    "history.empty": "Aucune analyse ne correspond à ces filtres.",
    "history.col.created": "Date",
    "history.col.filename": "Fichier",
    "history.col.probability": "P(maligne)",
    "history.col.label": "Résultat",
    "history.col.reviewed": "Relecture",
    "history.col.owner": "Propriétaire",
    "history.filter.label": "Résultat",
    "history.filter.any": "Tous",
    "history.filter.from": "Du (AAAA-MM-JJ)",
    "history.filter.to": "Au (AAAA-MM-JJ)",
    "history.filter.reviewed": "Relecture",
    "history.filter.reviewed_yes": "Relue",
    "history.filter.reviewed_no": "Non relue",
    "history.filter.search": "Rechercher un nom de fichier",
    "history.filter.apply": "Appliquer les filtres",
    "history.export": "Exporter en CSV",
    "history.page": "Page {page} sur {pages} ({total} analyses)",
    "history.prev": "Précédent",
    "history.next": "Suivant",
    "history.bad_date": "Les dates doivent avoir la forme 2025-01-31.",
    "label.malignant": "Suspect",
    "label.benign": "Non suspect",
    "review.agree": "D'accord",
    "review.disagree": "Pas d'accord",
    "review.none": "Non relue",
    "detail.title": "Analyse de {filename}",
    "detail.created": "Analysée le",
    "detail.reviewed_at": "Relue le",
    "detail.review": "Relecture clinique",
    "detail.review_hint": "Votre relecture est enregistrée à côté du résultat du modèle, "
    "qui n'est jamais modifié.",
    "detail.verdict": "Votre avis",
    "detail.agree": "Je suis d'accord avec le modèle",
    "detail.disagree": "Je ne suis pas d'accord avec le modèle",
    "detail.note": "Note (facultative)",
    "detail.save_review": "Enregistrer la relecture",
    "detail.review_saved": "Relecture enregistrée.",
    "detail.current_review": "Relecture actuelle : {verdict}",
    "detail.delete": "Supprimer l'analyse",
    "detail.delete_confirm": "Supprimer cette analyse et son image ? Action irréversible.",
    "detail.cancel": "Annuler",
    "detail.deleted": "Analyse supprimée.",
    "detail.choose_verdict": "Choisissez d'abord d'accord ou pas d'accord.",
    "dashboard.title": "Tableau de bord",
    "dashboard.total": "Analyses",
    "dashboard.malignant_share": "Part suspecte",
    "dashboard.reviewed_share": "Part relue",
    "dashboard.agreement": "Accord avec le modèle",
    "dashboard.no_reviews": "aucune relecture",
    "dashboard.labels": "Résultats",
    "dashboard.per_day": "Analyses par jour",
    "dashboard.histogram": "Probabilité de malignité",
    "dashboard.count": "Nombre",
    "model.title": "Fiche du modèle",
    "model.version": "Version",
    "model.threshold": "Point de fonctionnement (seuil)",
    "model.positive_class": "Classe positive",
    "model.input_size": "Taille d'entrée",
    "model.providers": "Moteur d'exécution",
    "model.metadata": "Métadonnées",
    "model.card": "Document de la fiche du modèle",
    "model.key": "Clé",
    "model.value": "Valeur",
    "model.no_card": "Aucune fiche de modèle n'est disponible.",
    "model.intended_use": "Usage prévu : aide à la décision qui signale des images "
    "d'échographie mammaire à l'attention du clinicien. Ce n'est pas un diagnostic ni un "
    "outil de dépistage sans relecture clinique.",
    "admin.title": "Administration",
    "admin.refused": "Accès refusé : cette page est réservée aux administrateurs.",
    "admin.users": "Utilisateurs",
    "admin.audit": "Journal d'audit",
    "admin.col.email": "E-mail",
    "admin.col.name": "Nom",
    "admin.col.role": "Rôle",
    "admin.col.active": "Actif",
    "admin.col.created": "Créé le",
    "admin.make_admin": "Rendre administrateur",
    "admin.make_clinician": "Rendre clinicien",
    "admin.deactivate": "Désactiver",
    "admin.reactivate": "Réactiver",
    "admin.updated": "Utilisateur mis à jour.",
    "admin.col.at": "Heure",
    "admin.col.actor": "Utilisateur",
    "admin.col.action": "Action",
    "admin.col.target": "Cible",
    "admin.col.detail": "Détail",
    "admin.filter.user": "Utilisateur",
    "admin.filter.action": "Action (ex. login.success)",
    "admin.filter.from": "Du (AAAA-MM-JJ)",
    "admin.filter.to": "Au (AAAA-MM-JJ)",
    "admin.filter.apply": "Filtrer",
    "admin.yes": "oui",
    "admin.no": "non",
    "error.invalid_credentials": "E-mail ou mot de passe incorrect.",
    "error.too_many_attempts": "Trop de tentatives échouées. Réessayez dans {seconds} secondes.",
    "error.not_found": "Introuvable : l'élément a peut-être été supprimé.",
    "error.forbidden": "Vous n'êtes pas autorisé à faire cela.",
    "error.conflict": "Conflit avec des données existantes : {message}",
    "error.invalid_input": "{message}",
    "error.invalid_image": "Image inutilisable : {message}",
    "error.model_unavailable": "Le modèle est indisponible pour le moment ; réessayez plus tard.",
    "error.database_unavailable": "La base de données est indisponible pour le moment ; "
    "réessayez dans un instant.",
    "error.unexpected": "Une erreur est survenue ; elle a été journalisée.",
    "error.image.invalid": "Ce fichier ne peut pas être utilisé comme image.",
    "error.image.unsupported": "Ce fichier n'est pas dans un format d'image accepté.",
    "error.image.too_large": "Cette image dépasse les limites de taille.",
    "error.image.too_many_bytes": "{name} pèse {size} Mo ; la limite est de {limit} Mo.",
    "error.image.too_many_pixels": "{name} mesure {width}x{height} pixels ; "
    "la limite est de {limit} pixels.",
    "error.image.bomb": "{name} comporte trop de pixels pour être décodée sans risque.",
    "error.image.empty": "{name} est vide.",
    "error.image.not_format": "{name} n'est pas une image {formats}.",
    "error.image.corrupt": "{name} est endommagée ou tronquée et ne peut pas être décodée "
    "({reason}).",
    "error.image.no_pixels": "{name} ne contient aucun pixel.",
    "error.image.stored_corrupt": "L'image enregistrée ne peut pas être décodée ({reason}).",
    "error.input.email": "Saisissez une adresse e-mail valide.",
    "error.input.password_short": "Le mot de passe doit comporter au moins {count} caractères.",
    "error.input.password_long": "Le mot de passe doit comporter au plus {count} caractères.",
    "error.input.password_common": "Ce mot de passe est trop courant ; choisissez-en un autre.",
    "error.input.password_is_email": "Le mot de passe ne doit pas être l'adresse e-mail.",
    "error.input.name_long": "Le nom doit comporter au plus {count} caractères.",
    "error.input.note_long": "La note doit comporter au plus {count} caractères.",
    "error.input.search_long": "La recherche doit comporter au plus {count} caractères.",
    "error.input.date_range": "Le début de la période doit précéder sa fin.",
    "error.input.no_image": "Envoyez au moins une image.",
    "error.input.too_many_images": "Envoyez au plus {count} images à la fois.",
    "error.conflict.email_taken": "Un compte existe déjà avec cet e-mail.",
    "error.conflict.last_admin": "C'est le dernier administrateur actif ; "
    "nommez-en un autre d'abord.",
}

CORE_LANGUAGE = "en"  # the language the core writes its error messages in


def _detail(pattern: str, key: str) -> tuple[re.Pattern[str], str]:
    return re.compile(pattern), key


# Core errors by class name (most specific first); where the core's English message carries a
# useful detail (a limit, a size, a file name), its pattern pulls the detail out so it can be
# said in the reader's language. Patterns mirror the messages raised in domain/, application/
# and adapters/imaging/; tests/e2e/web/test_i18n.py checks them against the real raisers.
DETAILED_ERRORS: Mapping[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "ImageTooLarge": (
        _detail(
            r"(?P<name>.+) is (?P<size>[\d.]+) MB; the limit is (?P<limit>[\d.]+) MB\.",
            "error.image.too_many_bytes",
        ),
        _detail(
            r"(?P<name>.+) is (?P<width>\d+)x(?P<height>\d+) pixels; "
            r"the limit is (?P<limit>[\d,]+) pixels\.",
            "error.image.too_many_pixels",
        ),
        _detail(r"(?P<name>.+) has too many pixels to be decoded safely\.", "error.image.bomb"),
    ),
    "UnsupportedImageFormat": (
        _detail(r"(?P<name>.+) is empty\.", "error.image.empty"),
        _detail(r"(?P<name>.+) is not a (?P<formats>.+) image\.", "error.image.not_format"),
    ),
    "InvalidImage": (
        _detail(
            r"(?P<name>.+) is damaged or truncated and cannot be decoded \((?P<reason>.*)\)\.",
            "error.image.corrupt",
        ),
        _detail(r"(?P<name>.+) has no pixels\.", "error.image.no_pixels"),
        _detail(
            r"The stored image cannot be decoded \((?P<reason>.*)\)\.", "error.image.stored_corrupt"
        ),
    ),
    "InvalidInput": (
        _detail(r"Enter a valid email address\.", "error.input.email"),
        _detail(
            r"Password must be at least (?P<count>\d+) characters\.", "error.input.password_short"
        ),
        _detail(
            r"Password must be at most (?P<count>\d+) characters\.", "error.input.password_long"
        ),
        _detail(r"This password is too common; choose another\.", "error.input.password_common"),
        _detail(r"The password must not be the email address\.", "error.input.password_is_email"),
        _detail(r"Name must be at most (?P<count>\d+) characters\.", "error.input.name_long"),
        _detail(r"Note must be at most (?P<count>\d+) characters\.", "error.input.note_long"),
        _detail(
            r"Search text must be at most (?P<count>\d+) characters\.", "error.input.search_long"
        ),
        _detail(r"The start of the date range must lie before its end\.", "error.input.date_range"),
        _detail(r"Send at least one image\.", "error.input.no_image"),
        _detail(r"Send at most (?P<count>\d+) images at once\.", "error.input.too_many_images"),
    ),
    "Conflict": (
        _detail(r"An account with this email already exists\.", "error.conflict.email_taken"),
        _detail(
            r"This is the last active administrator; appoint another one first\.",
            "error.conflict.last_admin",
        ),
    ),
}
# One sentence per class whatever its message says (the message may name internals).
CLASS_ERRORS: Mapping[str, str] = {
    "InvalidCredentials": "error.invalid_credentials",
    "NotFound": "error.not_found",
    "Forbidden": "error.forbidden",
    "ModelUnavailable": "error.model_unavailable",
    "DatabaseUnavailable": "error.database_unavailable",
}
# A message no pattern knows: said in a frame with the core's own words to readers of the core's
# language, and as the class's sentence to the others (image refusals), or with the core's words
# where no sentence could say what was wrong (input, conflicts).
FRAMED_ERRORS: Mapping[str, str] = {
    "InvalidImage": "error.invalid_image",
    "InvalidInput": "error.invalid_input",
    "Conflict": "error.conflict",
}
UNFRAMED_ERRORS: Mapping[str, str] = {
    "ImageTooLarge": "error.image.too_large",
    "UnsupportedImageFormat": "error.image.unsupported",
    "InvalidImage": "error.image.invalid",
    "InvalidInput": "error.invalid_input",
    "Conflict": "error.conflict",
}


def _localised(language: str, values: Mapping[str, str]) -> dict[str, str]:
    """A message's details written the reader's way (12.5 MB -> 12,5 Mo, PNG or JPEG -> ou)."""
    if language != "fr":
        return dict(values)
    out = {}
    for name, value in values.items():
        if re.fullmatch(r"[\d.,]+", value):
            value = value.replace(",", "\u202f").replace(".", ",")
        elif name == "formats":
            value = value.replace(" or ", " ou ")
        elif name == "name" and value == "The upload":  # the decoder's name for a nameless file
            value = "Le fichier envoyé"
        out[name] = value
    return out


CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": EN, "fr": FR}


def pick_language(accept_language: str | None) -> str:
    """The first supported language in an Accept-Language header, else English."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in CATALOGUES:
            return code
    return DEFAULT_LANGUAGE


def translate(language: str, key: str, **values: object) -> str:
    """The text for `key` in `language`, falling back to English, then to the key itself."""
    text = CATALOGUES.get(language, EN).get(key) or EN.get(key) or key
    return text.format(**values) if values else text


def translate_error(language: str, kinds: Sequence[str], message: str) -> str:
    """A core error in `language`, from its class names (most specific first) and message."""
    for kind in kinds:
        for pattern, key in DETAILED_ERRORS.get(kind, ()):
            if found := pattern.fullmatch(message):
                return translate(language, key, **_localised(language, found.groupdict()))
    for kind in kinds:
        if kind in CLASS_ERRORS:
            return translate(language, CLASS_ERRORS[kind])
    fallbacks = FRAMED_ERRORS if language == CORE_LANGUAGE else UNFRAMED_ERRORS
    for kind in kinds:
        if kind in fallbacks:
            return translate(language, fallbacks[kind], message=message)
    return message
