from django.urls import path

from museapp.web import attachments, views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/new/", views.new_conversation, name="new"),
    path("settings/", views.settings_page, name="settings"),
    path("search/", views.search, name="search"),
    path("notices/local-model/dismiss/", views.dismiss_local_notice, name="dismiss_local_notice"),
    path("c/<str:conversation_id>/", views.conversation_detail, name="detail"),
    path("c/<str:conversation_id>/rename/", views.conversation_rename, name="rename"),
    path("c/<str:conversation_id>/delete/", views.conversation_delete, name="delete"),
    path("c/<str:conversation_id>/older/", views.conversation_older, name="older"),
    path("c/<str:conversation_id>/model/", views.conversation_pick_model, name="pick_model"),
    path("c/<str:conversation_id>/preferences/", views.conversation_preferences, name="preferences"),
    path("c/<str:conversation_id>/sidebar/", views.conversation_sidebar, name="sidebar"),
    path("c/<str:conversation_id>/pin/", views.conversation_pin, name="pin"),
    path("c/<str:conversation_id>/unpin/", views.conversation_unpin, name="unpin"),
    path("c/<str:conversation_id>/temporary/", views.conversation_temporary, name="temporary"),
    path("c/<str:conversation_id>/files/", attachments.attachment_upload, name="attachment_upload"),
    path("c/<str:conversation_id>/files/<str:attachment_id>/", attachments.attachment_chip, name="attachment"),
    path("c/<str:conversation_id>/files/<str:attachment_id>/remove/", attachments.attachment_remove,
         name="attachment_remove"),
    path("files/<str:attachment_id>/", attachments.attachment_download, name="attachment_download"),
]
