"""English and French strings of the web UI; every user-visible text goes through `t`."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import DomainError, ErrorCode, Param

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
    "nav.password": "Change password",
    "password.title": "Change your password",
    "password.explain": "Every other signed-in session ends when the password changes.",
    "password.current": "Current password",
    "password.new": "New password",
    "password.again": "New password again",
    "password.change": "Change password",
    "password.changed": "Password changed; other sessions are signed out.",
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
    "auth.account_created": "If this email can be used, its account is ready: "
    "sign in with the password you chose.",
    "auth.registration_closed": "Self-registration is disabled; "
    "ask an administrator for an account.",
    "auth.fill_in": "Enter your email and password.",
    # analyze
    "analyze.title": "Analyze ultrasound images",
    "analyze.hint": "Drop or choose PNG, JPEG or DICOM images. "
    "Each result is stored in your history.",
    "analyze.limits": "Limits: at most {files} files at a time, {size} and {pixels} pixels "
    "per image.",
    "analyze.upload_label": "Ultrasound images",
    "analyze.drop": "Drop images here, or press + to choose them",
    "analyze.session": "Results of this session",
    "analyze.clear": "Clear results",
    "analyze.status.queued": "Waiting…",
    "analyze.status.running": "Analysing…",
    "analyze.status.done": "Done",
    "analyze.status.failed": "Refused",
    "analyze.status.duplicate": "Already analysed",
    "analyze.duplicate": "Same file as '{name}', already analysed in this session: "
    "not analysed again.",
    "analyze.too_large": "'{name}' is larger than the {limit} limit.",
    "analyze.rejected.size": "'{name}' was not sent: it is {size}; the limit is {limit}.",
    "analyze.rejected.type": "'{name}' was not sent: only PNG, JPEG and DICOM files are accepted.",
    "analyze.rejected.count": "'{name}' was not sent: at most {count} files at a time.",
    "result.probability": "Probability of malignancy",
    "result.threshold": "Decision threshold",
    "result.model_version": "Model version",
    "result.above_threshold": "At or above the model's decision threshold ({t}): the model "
    "would flag it for attention.",
    "result.below_threshold": "Below the model's decision threshold ({t}).",
    "result.borderline": "Borderline: close to the decision threshold, within the model's "
    "calibration uncertainty",
    "band.very_low": "Very low likelihood of malignancy",
    "band.low": "Low likelihood of malignancy",
    "band.intermediate": "Intermediate likelihood of malignancy",
    "band.high": "High likelihood of malignancy",
    "band.very_high": "Very high likelihood of malignancy",
    "band.short.very_low": "Very low",
    "band.short.low": "Low",
    "band.short.intermediate": "Intermediate",
    "band.short.high": "High",
    "band.short.very_high": "Very high",
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
    "detail.note_rule": "At most {count} characters.",
    "detail.birads": "BI-RADS assessment",
    "detail.outcome": "Outcome",
    "detail.outcome_title": "Pathology outcome",
    "detail.outcome_hint": "Record what biopsy, surgery or follow-up showed: it feeds the "
    "real-world performance on the dashboard.",
    "detail.current_outcome": "Recorded: {result} ({source}, {day})",
    "detail.outcome_source": "Source",
    "detail.outcome_date": "Date of the result",
    "detail.histology": "Histology (optional)",
    "detail.histology_rule": "At most {count} characters, e.g. invasive ductal carcinoma.",
    "detail.outcome_saved": "Outcome saved.",
    "detail.choose_outcome": "Choose benign or malignant first.",
    "detail.save_outcome": "Save outcome",
    "detail.withdraw_outcome": "Withdraw outcome",
    "result.band": "Likelihood band",
    "birads.0": "0 — incomplete, needs more imaging",
    "birads.1": "1 — negative",
    "birads.2": "2 — benign",
    "birads.3": "3 — probably benign",
    "birads.4A": "4A — low suspicion",
    "birads.4B": "4B — moderate suspicion",
    "birads.4C": "4C — high suspicion",
    "birads.5": "5 — highly suggestive of malignancy",
    "birads.6": "6 — known biopsy-proven malignancy",
    "outcome.benign": "Benign",
    "outcome.malignant": "Malignant",
    "outcome.source.biopsy": "Biopsy",
    "outcome.source.surgery": "Surgery",
    "outcome.source.follow_up": "Imaging follow-up",
    "date.format": "YYYY-MM-DD, or pick from the calendar",
    "date.pick": "Pick a date",
    # dashboard
    "dashboard.title": "Dashboard",
    "dashboard.total": "Analyses",
    "dashboard.malignant_share": "At or above the threshold",
    "dashboard.reviewed_share": "Reviewed",
    "dashboard.agreement": "Reviewers agreeing with the model",
    "dashboard.outcomes": "With a recorded outcome",
    "dashboard.none_yet": "none yet",
    "dashboard.share": "{rate} ({part} of {whole})",
    "dashboard.threshold_line": "threshold {t}",
    "performance.title": "Real-world performance",
    "performance.explain": "The model and the reviewers' BI-RADS (4A and above = positive) "
    "against the recorded outcomes, with 95 % intervals. Few cases give wide intervals.",
    "performance.empty": "No outcomes recorded yet: record them on each analysis's page.",
    "performance.cases": "{cases} analyses with an outcome, {malignant} malignant",
    "performance.below_floor": "Warning: the sensitivity's lower 95 % bound ({low}) is below "
    "the {floor} the model was validated for. Review the cases and tell the model's owner.",
    "performance.below_floor_short": "below the validated sensitivity",
    "performance.measure": "Measure",
    "performance.model": "Model (at its threshold)",
    "performance.clinicians": "Reviewers (BI-RADS)",
    "performance.col_cases": "Cases",
    "performance.by_version": "Per model version",
    "performance.by_month": "Per month of analysis",
    "performance.sensitivity": "Sensitivity",
    "performance.specificity": "Specificity",
    "performance.ppv": "Positive predictive value",
    "performance.npv": "Negative predictive value",
    "performance.interval": "{value} (95 % CI {low}-{high} %; {part}/{whole})",
    "performance.no_cases": "— (no cases)",
    "performance.no_auc": "— (needs benign and malignant cases)",
    "performance.auc_value": "{value} (95 % CI {low}-{high}; {pos} malignant, {neg} benign)",
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
    # errors, by code (domain/errors.py ErrorCode): first the kinds, then the codes that
    # refine them; `.framed` sentences carry the core's own words, for readers of its language
    "upload.unnamed": "The upload",
    "error.bad_request": "{message}",
    "error.invalid_credentials": "Wrong email or password.",
    "error.too_many_attempts": "Too many failed sign-ins. Try again in {seconds} seconds.",
    "error.not_found": "Not found: it may have been deleted.",
    "error.forbidden": "You are not allowed to do this.",
    "error.not_authenticated": "Your session has ended; sign in again.",
    "error.conflict": "This conflicts with existing data: {message}",
    "error.conflict.framed": "This conflicts with existing data: {message}",
    "error.invalid_input": "{message}",
    "error.invalid_input.framed": "{message}",
    "error.invalid_image": "This file cannot be used as an image.",
    "error.invalid_image.framed": "Not a usable image: {message}",
    "error.unsupported_image_format": "This file is not in an accepted image format.",
    "error.image_too_large": "This image exceeds the size limits.",
    "error.model_unavailable": "The model is unavailable right now; try again later.",
    "error.database_unavailable": "The database is unavailable right now; try again shortly.",
    "error.pacs_unavailable": "The PACS cannot be reached right now; try again later.",
    "error.pacs_query_empty": "Give a patient reference or an accession number to search the PACS.",
    "error.pacs_study_not_found": "The PACS holds no such study.",
    "error.pacs_no_images": "The study holds no image the model can read "
    "({skipped} objects left out).",
    "error.pacs_retrieve_partial": "The PACS delivered only part of the study "
    "({missing} of {count} objects missing); nothing was stored.",
    "error.pacs_store_refused": "The PACS refused {count} of the result objects; "
    "try again later.",
    "error.study_not_from_pacs": "This study has no analysed PACS image to report on.",
    "error.unexpected": "Something went wrong; the error has been logged.",
    "error.email_invalid": "Enter a valid email address.",
    "error.password_too_short": "Password must be at least {count} characters.",
    "error.password_too_long": "Password must be at most {count} characters.",
    "error.password_too_common": "This password is too common; choose another.",
    "error.password_is_email": "The password must not be the email address.",
    "error.passwords_differ": "The passwords do not match.",
    "error.name_too_long": "Name must be at most {count} characters.",
    "error.note_too_long": "Note must be at most {count} characters.",
    "error.search_too_long": "Search text must be at most {count} characters.",
    "error.histology_too_long": "Histology must be at most {count} characters.",
    "error.outcome_date_in_future": "The outcome date cannot lie in the future.",
    "error.date_invalid": "Dates must look like 2025-01-31.",
    "error.date_range_reversed": "The start of the date range must lie before its end.",
    "error.page_invalid": "Pages hold between 1 and {max_limit} entries.",
    "error.opacity_invalid": "The opacity must lie between 0 and 1.",
    "error.no_image": "Send at least one image.",
    "error.one_image_expected": "Send exactly one image.",
    "error.too_many_images": "Send at most {count} images at once.",
    "error.nothing_to_change": "Nothing to change.",
    "error.password_too_weak": "This password is too easy to guess; "
    "use a longer phrase of unrelated words.",
    "error.password_current_wrong": "The current password is not correct.",
    "error.text_invalid_characters": "Remove the control or invisible characters from the text.",
    "error.patient_ref_invalid": "Enter a patient reference of at most {count} characters.",
    "error.accession_invalid": "The accession number must be at most {count} characters.",
    "error.study_uid_invalid": "The study instance UID must be a DICOM UID: digits and dots, "
    "at most 64 characters.",
    "error.laterality_invalid": "Choose the side: L (left) or R (right).",
    "error.view_invalid": "The view must be {formats}.",
    "error.clock_position_invalid": "The clock position must be a time from 1:00 to 12:30, "
    "in half hours.",
    "error.distance_invalid": "The distance from the nipple must lie between 0 and {count} cm.",
    "error.lesion_number_invalid": "The lesion number must lie between 1 and {count}.",
    "error.positions_mismatch": "Give one position per image ({count} images sent).",
    "error.study_uid_taken": "You already have a study with this study instance UID.",
    "error.image_needs_study": "{name} is not a DICOM file: add it to a study first.",
    "error.image_no_patient_id": "{name} names no patient (its PatientID is empty): "
    "add it to a study first.",
    "error.image_other_study": "{name} belongs to another patient or study than this one.",
    "error.image_side_mismatch": "{name}: the side given differs from the side in its "
    "DICOM header.",
    "error.email_taken": "An account with this email already exists.",
    "error.last_admin": "This is the last active administrator; appoint another one first.",
    "error.image_empty": "{name} is empty.",
    "error.image_format_not_accepted": "{name} is not a {formats} image.",
    "error.image_too_many_bytes": "{name} is {size_mb} MB; the limit is {limit_mb} MB.",
    "error.image_too_many_pixels": "{name} is {width}x{height} pixels; "
    "the limit is {limit} pixels.",
    "error.image_bomb": "{name} has too many pixels to be decoded safely.",
    "error.image_corrupt": "{name} is damaged or truncated and cannot be decoded ({reason}).",
    "error.image_no_pixels": "{name} has no pixels.",
    "error.stored_image_corrupt": "The stored image cannot be decoded ({reason}).",
    "error.dicom_corrupt": "{name} is not a readable DICOM file ({reason}).",
    "error.dicom_no_pixel_data": "{name} is a DICOM file without an image.",
    "error.dicom_syntax_unsupported": "{name} uses a DICOM compression this server cannot "
    "read ({syntax}).",
    "error.dicom_photometric_unsupported": "{name} has a colour model this server cannot "
    "read ({photometric}).",
    "error.dicom_too_many_frames": "{name} has {count} frames; the limit is {limit}.",
    "error.dicom_frame_missing": "{name} has {count} frames; frame {frame} does not exist.",
}

FR: dict[str, str] = {
    "app.title": "Breastscan",
    "app.notice": "Aide à la décision — pas un diagnostic. Tout résultat doit être confirmé "
    "par un clinicien.",
    "nav.analyze": "Analyser",
    "nav.history": "Historique",
    "nav.dashboard": "Tableau de bord",
    "nav.password": "Changer le mot de passe",
    "password.title": "Changer votre mot de passe",
    "password.explain": "Toutes les autres sessions se terminent quand le mot de passe change.",
    "password.current": "Mot de passe actuel",
    "password.new": "Nouveau mot de passe",
    "password.again": "Nouveau mot de passe (encore)",
    "password.change": "Changer le mot de passe",
    "password.changed": "Mot de passe changé ; les autres sessions sont déconnectées.",
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
    "auth.account_created": "Si cet e-mail peut être utilisé, son compte est prêt : "
    "connectez-vous avec le mot de passe choisi.",
    "auth.registration_closed": "L'inscription libre est désactivée ; demandez un compte "
    "à un administrateur.",
    "auth.fill_in": "Saisissez votre e-mail et votre mot de passe.",
    "analyze.title": "Analyser des images échographiques",
    "analyze.hint": "Déposez ou choisissez des images PNG, JPEG ou DICOM. "
    "Chaque résultat est enregistré dans votre historique.",
    "analyze.limits": "Limites : au plus {files} fichiers à la fois, {size} et {pixels} pixels "
    "par image.",
    "analyze.upload_label": "Images échographiques",
    "analyze.drop": "Déposez les images ici, ou appuyez sur + pour les choisir",
    "analyze.session": "Résultats de cette session",
    "analyze.clear": "Effacer les résultats",
    "analyze.status.queued": "En attente…",
    "analyze.status.running": "Analyse en cours…",
    "analyze.status.done": "Terminé",
    "analyze.status.failed": "Refusé",
    "analyze.status.duplicate": "Déjà analysé",
    "analyze.duplicate": "Même fichier que '{name}', déjà analysé dans cette session : "
    "pas analysé de nouveau.",
    "analyze.too_large": "'{name}' dépasse la limite de {limit}.",
    "analyze.rejected.size": "'{name}' n'a pas été envoyé : il pèse {size} ; la limite est de "
    "{limit}.",
    "analyze.rejected.type": "'{name}' n'a pas été envoyé : seuls les fichiers PNG, JPEG et DICOM "
    "sont acceptés.",
    "analyze.rejected.count": "'{name}' n'a pas été envoyé : au plus {count} fichiers à la fois.",
    "result.probability": "Probabilité de malignité",
    "result.threshold": "Seuil de décision",
    "result.model_version": "Version du modèle",
    "result.above_threshold": "Au seuil de décision du modèle ({t}) ou au-dessus : le modèle "
    "le signalerait à l'attention.",
    "result.below_threshold": "Sous le seuil de décision du modèle ({t}).",
    "result.borderline": "Limite : proche du seuil de décision, dans l'incertitude de "
    "calibration du modèle",
    "band.very_low": "Probabilité de malignité très faible",
    "band.low": "Probabilité de malignité faible",
    "band.intermediate": "Probabilité de malignité intermédiaire",
    "band.high": "Probabilité de malignité élevée",
    "band.very_high": "Probabilité de malignité très élevée",
    "band.short.very_low": "Très faible",
    "band.short.low": "Faible",
    "band.short.intermediate": "Intermédiaire",
    "band.short.high": "Élevée",
    "band.short.very_high": "Très élevée",
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
    "detail.note_rule": "Au plus {count} caractères.",
    "detail.birads": "Classification BI-RADS",
    "detail.outcome": "Résultat final",
    "detail.outcome_title": "Résultat anatomopathologique",
    "detail.outcome_hint": "Indiquez ce qu'ont montré la biopsie, la chirurgie ou le suivi : "
    "cela alimente la performance en conditions réelles du tableau de bord.",
    "detail.current_outcome": "Enregistré : {result} ({source}, {day})",
    "detail.outcome_source": "Source",
    "detail.outcome_date": "Date du résultat",
    "detail.histology": "Histologie (facultatif)",
    "detail.histology_rule": "Au plus {count} caractères, ex. carcinome canalaire infiltrant.",
    "detail.outcome_saved": "Résultat enregistré.",
    "detail.choose_outcome": "Choisissez d'abord bénin ou malin.",
    "detail.save_outcome": "Enregistrer le résultat",
    "detail.withdraw_outcome": "Retirer le résultat",
    "result.band": "Classe de probabilité",
    "birads.0": "0 — incomplet, imagerie complémentaire",
    "birads.1": "1 — négatif",
    "birads.2": "2 — bénin",
    "birads.3": "3 — probablement bénin",
    "birads.4A": "4A — suspicion faible",
    "birads.4B": "4B — suspicion intermédiaire",
    "birads.4C": "4C — suspicion forte",
    "birads.5": "5 — très évocateur de malignité",
    "birads.6": "6 — malignité prouvée par biopsie",
    "outcome.benign": "Bénin",
    "outcome.malignant": "Malin",
    "outcome.source.biopsy": "Biopsie",
    "outcome.source.surgery": "Chirurgie",
    "outcome.source.follow_up": "Suivi en imagerie",
    "date.format": "AAAA-MM-JJ, ou choisir dans le calendrier",
    "date.pick": "Choisir une date",
    "dashboard.title": "Tableau de bord",
    "dashboard.total": "Analyses",
    "dashboard.malignant_share": "Au seuil ou au-dessus",
    "dashboard.reviewed_share": "Relues",
    "dashboard.agreement": "Relecteurs en accord avec le modèle",
    "dashboard.outcomes": "Avec un résultat final",
    "dashboard.none_yet": "aucune pour l'instant",
    "dashboard.share": "{rate} ({part} sur {whole})",
    "dashboard.threshold_line": "seuil {t}",
    "performance.title": "Performance en conditions réelles",
    "performance.explain": "Le modèle et la classification BI-RADS des relecteurs (4A et plus "
    "= positif) face aux résultats finaux, avec intervalles à 95 %. Peu de cas donnent des "
    "intervalles larges.",
    "performance.empty": "Aucun résultat final enregistré : saisissez-les sur la page de "
    "chaque analyse.",
    "performance.cases": "{cases} analyses avec un résultat final, dont {malignant} malignes",
    "performance.below_floor": "Attention : la borne inférieure à 95 % de la sensibilité "
    "({low}) est sous les {floor} pour lesquels le modèle a été validé. Revoyez les cas et "
    "prévenez le responsable du modèle.",
    "performance.below_floor_short": "sous la sensibilité validée",
    "performance.measure": "Mesure",
    "performance.model": "Modèle (à son seuil)",
    "performance.clinicians": "Relecteurs (BI-RADS)",
    "performance.col_cases": "Cas",
    "performance.by_version": "Par version du modèle",
    "performance.by_month": "Par mois d'analyse",
    "performance.sensitivity": "Sensibilité",
    "performance.specificity": "Spécificité",
    "performance.ppv": "Valeur prédictive positive",
    "performance.npv": "Valeur prédictive négative",
    "performance.interval": "{value} (IC 95 % {low}-{high} % ; {part}/{whole})",
    "performance.no_cases": "— (aucun cas)",
    "performance.no_auc": "— (il faut des cas bénins et malins)",
    "performance.auc_value": "{value} (IC 95 % {low}-{high} ; {pos} malins, {neg} bénins)",
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
    "upload.unnamed": "Le fichier envoyé",
    "error.bad_request": "{message}",
    "error.invalid_credentials": "E-mail ou mot de passe incorrect.",
    "error.too_many_attempts": "Trop de tentatives échouées. Réessayez dans {seconds} secondes.",
    "error.not_found": "Introuvable : l'élément a peut-être été supprimé.",
    "error.forbidden": "Vous n'êtes pas autorisé à faire cela.",
    "error.not_authenticated": "Votre session a pris fin ; reconnectez-vous.",
    "error.conflict": "Conflit avec des données existantes : {message}",
    "error.conflict.framed": "Conflit avec des données existantes : {message}",
    "error.invalid_input": "{message}",
    "error.invalid_input.framed": "{message}",
    "error.invalid_image": "Ce fichier ne peut pas être utilisé comme image.",
    "error.invalid_image.framed": "Image inutilisable : {message}",
    "error.unsupported_image_format": "Ce fichier n'est pas dans un format d'image accepté.",
    "error.image_too_large": "Cette image dépasse les limites de taille.",
    "error.model_unavailable": "Le modèle est indisponible pour le moment ; réessayez plus tard.",
    "error.database_unavailable": "La base de données est indisponible pour le moment ; "
    "réessayez dans un instant.",
    "error.pacs_unavailable": "Le PACS est injoignable pour le moment ; réessayez plus tard.",
    "error.pacs_query_empty": "Indiquez une référence patient ou un numéro d'accession "
    "pour chercher dans le PACS.",
    "error.pacs_study_not_found": "Le PACS ne contient pas cet examen.",
    "error.pacs_no_images": "L'examen ne contient aucune image lisible par le modèle "
    "({skipped} objets écartés).",
    "error.pacs_retrieve_partial": "Le PACS n'a livré qu'une partie de l'examen "
    "({missing} objets manquants sur {count}) ; rien n'a été enregistré.",
    "error.pacs_store_refused": "Le PACS a refusé {count} des objets de résultat ; "
    "réessayez plus tard.",
    "error.study_not_from_pacs": "Cet examen ne contient aucune image PACS analysée.",
    "error.unexpected": "Une erreur est survenue ; elle a été journalisée.",
    "error.email_invalid": "Saisissez une adresse e-mail valide.",
    "error.password_too_short": "Le mot de passe doit comporter au moins {count} caractères.",
    "error.password_too_long": "Le mot de passe doit comporter au plus {count} caractères.",
    "error.password_too_common": "Ce mot de passe est trop courant ; choisissez-en un autre.",
    "error.password_is_email": "Le mot de passe ne doit pas être l'adresse e-mail.",
    "error.passwords_differ": "Les mots de passe ne correspondent pas.",
    "error.name_too_long": "Le nom doit comporter au plus {count} caractères.",
    "error.note_too_long": "La note doit comporter au plus {count} caractères.",
    "error.search_too_long": "La recherche doit comporter au plus {count} caractères.",
    "error.histology_too_long": "L'histologie doit comporter au plus {count} caractères.",
    "error.outcome_date_in_future": "La date du résultat ne peut pas être dans le futur.",
    "error.date_invalid": "Les dates doivent avoir la forme 2025-01-31.",
    "error.date_range_reversed": "Le début de la période doit précéder sa fin.",
    "error.page_invalid": "Une page contient entre 1 et {max_limit} éléments.",
    "error.opacity_invalid": "L'opacité doit être comprise entre 0 et 1.",
    "error.no_image": "Envoyez au moins une image.",
    "error.one_image_expected": "Envoyez exactement une image.",
    "error.too_many_images": "Envoyez au plus {count} images à la fois.",
    "error.nothing_to_change": "Rien à modifier.",
    "error.password_too_weak": "Ce mot de passe est trop facile à deviner ; "
    "choisissez une phrase plus longue de mots sans lien.",
    "error.password_current_wrong": "Le mot de passe actuel est incorrect.",
    "error.text_invalid_characters": "Retirez les caractères de contrôle ou invisibles du texte.",
    "error.patient_ref_invalid": "Saisissez une référence patient d'au plus {count} caractères.",
    "error.accession_invalid": "Le numéro d'accession doit comporter au plus {count} caractères.",
    "error.study_uid_invalid": "L'UID d'instance de l'examen doit être un UID DICOM : "
    "chiffres et points, 64 caractères au plus.",
    "error.laterality_invalid": "Choisissez le côté : L (gauche) ou R (droit).",
    "error.view_invalid": "La coupe doit être {formats}.",
    "error.clock_position_invalid": "La position horaire doit être une heure de 1:00 à 12:30, "
    "par demi-heures.",
    "error.distance_invalid": "La distance au mamelon doit être comprise entre 0 et {count} cm.",
    "error.lesion_number_invalid": "Le numéro de lésion doit être compris entre 1 et {count}.",
    "error.positions_mismatch": "Indiquez une position par image ({count} images envoyées).",
    "error.study_uid_taken": "Vous avez déjà un examen avec cet UID d'instance.",
    "error.image_needs_study": "{name} n'est pas un fichier DICOM : ajoutez-le d'abord à un "
    "examen.",
    "error.image_no_patient_id": "{name} ne nomme aucun patient (PatientID vide) : "
    "ajoutez-le d'abord à un examen.",
    "error.image_other_study": "{name} appartient à un autre patient ou à un autre examen "
    "que celui-ci.",
    "error.image_side_mismatch": "{name} : le côté indiqué diffère de celui de son en-tête "
    "DICOM.",
    "error.email_taken": "Un compte existe déjà avec cet e-mail.",
    "error.last_admin": "C'est le dernier administrateur actif ; nommez-en un autre d'abord.",
    "error.image_empty": "{name} est vide.",
    "error.image_format_not_accepted": "{name} n'est pas une image {formats}.",
    "error.image_too_many_bytes": "{name} pèse {size_mb} Mo ; la limite est de {limit_mb} Mo.",
    "error.image_too_many_pixels": "{name} mesure {width}x{height} pixels ; "
    "la limite est de {limit} pixels.",
    "error.image_bomb": "{name} comporte trop de pixels pour être décodée sans risque.",
    "error.image_corrupt": "{name} est endommagée ou tronquée et ne peut pas être décodée "
    "({reason}).",
    "error.image_no_pixels": "{name} ne contient aucun pixel.",
    "error.stored_image_corrupt": "L'image enregistrée ne peut pas être décodée ({reason}).",
    "error.dicom_corrupt": "{name} n'est pas un fichier DICOM lisible ({reason}).",
    "error.dicom_no_pixel_data": "{name} est un fichier DICOM sans image.",
    "error.dicom_syntax_unsupported": "{name} utilise une compression DICOM que ce serveur "
    "ne sait pas lire ({syntax}).",
    "error.dicom_photometric_unsupported": "{name} utilise un modèle de couleur que ce "
    "serveur ne sait pas lire ({photometric}).",
    "error.dicom_too_many_frames": "{name} comporte {count} trames ; la limite est de {limit}.",
    "error.dicom_frame_missing": "{name} comporte {count} trames ; la trame {frame} "
    "n'existe pas.",
}

CORE_LANGUAGE = "en"  # the language the core writes its error messages in
# Kinds whose bare error says what was wrong only in the core's own words: readers of the core's
# language get them framed (`error.<kind>.framed`); the others get the kind's sentence.
FRAMED_KINDS = frozenset({ErrorCode.INVALID_IMAGE, ErrorCode.INVALID_INPUT, ErrorCode.CONFLICT})
CONJUNCTION = {"en": " or ", "fr": " ou "}
# Codes said by their kind's sentence in every language: what they add (which record, which
# rule, which file path) is for logs and the API, not for the reader.
SAID_BY_THEIR_KIND = frozenset(
    {
        ErrorCode.PREDICTION_NOT_FOUND,
        ErrorCode.USER_NOT_FOUND,
        ErrorCode.HEATMAP_NOT_STORED,
        ErrorCode.LESION_NOT_FOUND,
        ErrorCode.STORED_IMAGE_MISSING,
        ErrorCode.STUDY_NOT_FOUND,
        ErrorCode.ADMIN_ONLY,
        ErrorCode.REGISTRATION_CLOSED,
        ErrorCode.SESSION_ENDED,
        ErrorCode.MODEL_MISSING,
        # the inference protocol's refusals go to integrators' programs, not to readers
        ErrorCode.MODEL_NOT_FOUND,
        ErrorCode.INFER_REQUEST_INVALID,
        ErrorCode.TENSOR_INPUT_EXPECTED,
        ErrorCode.TENSOR_OUTPUT_UNKNOWN,
        ErrorCode.TENSOR_DATATYPE_INVALID,
        ErrorCode.TENSOR_SHAPE_INVALID,
        ErrorCode.TENSOR_SIZE_INVALID,
    }
)


def _number(language: str, value: float) -> str:
    """12.5 -> 12,5 and 10000 -> 10 000 in French; 4096 and years stay ungrouped."""
    text = (
        f"{value:.1f}"
        if isinstance(value, float)
        else (f"{value:,}" if value >= 10_000 else str(value))
    )
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _localised(language: str, params: Mapping[str, Param]) -> dict[str, str]:
    """An error's parameters written the reader's way; `filename` becomes `name`."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, tuple):
            out[key] = CONJUNCTION.get(language, CONJUNCTION["en"]).join(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = _number(language, value)
        else:
            out[key] = str(value)
    if "filename" in params:
        name = params["filename"]
        out["name"] = f"'{name}'" if name else translate(language, "upload.unnamed")
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


def translate_error(language: str, error: DomainError) -> str:
    """A core error in `language`: its code's sentence with its parameters, else its kind's."""
    catalogue = CATALOGUES.get(language, EN)
    kinds = [c.kind for c in type(error).__mro__ if issubclass(c, DomainError)]
    keys = [f"error.{error.code}"] if error.code is not error.kind else []
    if language == CORE_LANGUAGE:
        keys += [f"error.{kind}.framed" for kind in kinds if kind in FRAMED_KINDS]
    keys += [f"error.{kind}" for kind in kinds]
    values = {"message": error.message, **_localised(language, error.params)}
    for key in keys:
        text = catalogue.get(key)
        if text is not None:
            return text.format(**values)
    return error.message
