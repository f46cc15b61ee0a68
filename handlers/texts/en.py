"""English texts."""

TEXTS: dict[str, str] = {
    # -- start / help
    "start": (
        "👋 <b>Hi! I turn marketplace links into clean cards.</b>\n\n"
        "Paste a link, an app share text or an ID from:\n"
        "• <b>Anjuke</b> 安居客: homes for sale, rent, new homes, commercial\n"
        "• <b>Beike / Lianjia</b> 贝壳/链家: resale homes\n"
        "• <b>Xianyu</b> 闲鱼: second-hand items\n\n"
        "Examples:\n"
        "<code>https://bj.ke.com/ershoufang/101127449675.html</code>\n"
        "<code>https://www.goofish.com/item?id=712345678901</code>\n"
        "<code>https://beijing.anjuke.com/prop/view/A1234567890</code>\n\n"
        "💱 Trade-in quote: <code>/quote iPhone 14 Pro 256G 95新</code>\n"
        "🔔 Price alerts: <code>/watch &lt;link&gt; 5%</code>, then /watches\n"
        "👤 /link your Anjuke account · /forget deletes your data\n"
        "/help shows this again."
    ),
    "cmd_start": "Start and examples",
    "cmd_help": "What I can do",
    "cmd_quote": "Trade-in quote for a device",
    "cmd_watch": "Watch a listing's price",
    "cmd_watches": "Your watched listings",
    "cmd_unwatch": "Stop watching a listing",
    "cmd_link": "Link your Anjuke account",
    "cmd_account": "Your linked account",
    "cmd_forget": "Delete everything about you",
    "cmd_cancel": "Cancel the current question",
    # -- listings
    "no_listing": (
        "I found no listing in that message. Paste a link from Anjuke, Beike/Lianjia or "
        "Xianyu, an app share text, or an ID. /help shows examples."
    ),
    "too_many": "That message names many listings; I'll show the first {count}.",
    "which_platform": "Which platform is <code>{token}</code> from?",
    "which_city": "Which city is the Beike listing <code>{code}</code> in?",
    "city_last": "{city} (last used)",
    "short_not_listing": "That short link doesn't lead to a Xianyu item.",
    "short_failed": "I couldn't open that short link. Try the full link from the app.",
    "slow_down": (
        "🐢 Slow down a little: you are sending faster than I can answer fairly. "
        "I skipped the last messages; send them again in a minute."
    ),
    "still_fetching": "⏳ {platform} is slow right now. Still fetching; I'll edit this message.",
    "sandbox": "sandbox",
    "btn_watch": "🔔 Watch price",
    "btn_refresh": "🔄 Refresh",
    "btn_photos": "🖼 Photos ({count})",
    "btn_open": "🔗 Open on {platform}",
    "watch_soon": "Price alerts are coming soon.",
    "refreshed": "Up to date.",
    "refresh_unchanged": "Nothing changed.",
    "no_more_photos": "This listing has no photos.",
    "expired_button": "This button has expired. Send the link again.",
    # -- card labels
    "status_on_sale": "On sale",
    "status_on_rent": "For rent",
    "status_sold": "Sold",
    "status_rented": "Rented",
    "status_taken_down": "Taken down",
    "status_other": "Other status",
    "kind_sale": "Home for sale",
    "kind_rent": "Rental",
    "kind_new_home": "New home",
    "kind_commercial": "Commercial",
    "kind_item": "Item",
    "price_wan": "{price} 万 (¥{yuan})",
    "price_month": "¥{price}/month",
    "price_yuan": "¥{price}",
    "unit_price": "¥{price}/㎡",
    "original_price": "was ¥{price}",
    "agent": "Agent",
    "seller": "Seller",
    "fact_layout": "Layout",
    "fact_area": "Area",
    "fact_area_inner": "Inner area",
    "fact_floor": "Floor",
    "fact_orientation": "Facing",
    "fact_community": "Community",
    "fact_district": "District",
    "fact_address": "Address",
    "fact_decoration": "Decoration",
    "fact_built_year": "Built",
    "fact_listed": "Listed",
    "fact_elevator": "Elevator",
    "fact_usage": "Use",
    "fact_ownership": "Ownership",
    "fact_metro": "Metro",
    "fact_school": "Schools",
    "fact_commerce": "Shops",
    "fact_down_payment": "Down payment",
    "fact_monthly_payment": "Monthly",
    "fact_price_trend": "30-day trend",
    "fact_house_code": "Record no.",
    "fact_building": "Building",
    "fact_condition": "Condition",
    "fact_location": "Location",
    "fact_seller_rating": "Seller rating",
    "fact_seller_level": "Seller level",
    "fact_shipping": "Shipping",
    "fact_guarantee": "Guarantee",
    "fact_category": "Category",
    "fact_sales": "Sold",
    # -- platform names
    "platform_anjuke": "Anjuke",
    "platform_beike": "Beike",
    "platform_xianyu": "Xianyu",
    "platform_aihuishou": "Aihuishou",
    "platform_anjuke_open": "Anjuke account",
    # -- errors (by PlatformError.kind)
    "error_not_found": "{platform}: this listing doesn't exist or was removed. Check the link or ID.",
    "error_bad_request": "{platform} didn't accept that ID. Check it and send it again.",
    "error_bad_request_aihuishou": "Aihuishou didn't accept that device description. Check the model, storage and condition, then try again.",
    "error_not_permitted": "{platform} refused this bot's access right now. Please tell the bot's operator.",
    "error_rate_limited": "{platform} is busy. Try again in a minute.",
    "error_quota_exhausted": "Today's {platform} lookups are used up. Try again tomorrow.",
    "error_budget_exhausted": "You've used all {limit} of your {platform} lookups for today (0 left). They reset at 00:00 Beijing time, in {wait}. Cards already fetched still come free.",
    "error_budget_exhausted_short_links": "I've followed all {limit} short links I may follow for you today (0 left). Paste the full link instead, or wait: this resets at 00:00 Beijing time, in {wait}.",
    "duration_minutes": "{m} min",
    "duration_hours": "{h} h {m} min",
    "duration_days": "{d} d",
    "kept_answer": "🕒 As of {age} ago: today's {platform} lookups are nearly used up, so this is the last answer I have.",
    "watch_frequency": "⏱ On this bot's {platform} plan this listing is checked about every {every}: {checks} checks a day are shared by the {listings} listings people watch there.",
    "watch_frequency_unmetered": "⏱ It is checked about every {every}.",
    "watch_limit_platform": "You already watch {limit} {platform} listings, the most this bot's {platform} plan can check at least {checks} times a day each. /unwatch one first.",
    "error_insufficient_balance": "This bot's {platform} account is out of credit. Please tell the bot's operator.",
    "error_transient": "{platform} didn't answer in time. Try again in a moment.",
    "error_disabled": "{platform} isn't enabled on this bot.",
    "error_unavailable": "{platform} is temporarily unavailable. Try again in a few minutes.",
    "error_account_exists": "{platform}: that account already exists.",
    "error_error": "{platform} failed. Try again later.",
    "error_internal": "Sorry, something went wrong on my side. Please try again.",
    "error_storage_busy": "Sorry, my storage is busy right now, so that was not saved. Please try again in a minute.",
    "error_storage_full": "Sorry, my storage is full, so nothing could be saved. The operator has been told; please try again later.",
    # -- price alerts: /watch, /watches, /unwatch, alert messages (handlers/watches.py, alerts.py)
    "watch_usage": (
        "Send <code>/watch &lt;link or ID&gt; [rule]</code>. Rules: nothing = any price drop, "
        "<code>5%</code> = a drop of 5% or more, <code>2500</code> = at or below that price "
        "(in the card's unit; <code>250万</code> and <code>¥3000</code> work too)."
    ),
    "watch_one_listing": "Send one listing per /watch.",
    "watch_pick_first": "Answer the question above and I'll start watching it.",
    "rule_unknown": (
        "I didn't understand the rule “{rule}”. Use nothing (any drop), <code>5%</code>, "
        "or a price like <code>2500</code>."
    ),
    "rule_percent_range": "The percentage must be a drop from 1% to 99%, without a minus sign, e.g. <code>5%</code>.",
    "rule_price_range": (
        "That target is not a price a listing can have. Use a real price above zero, e.g. "
        "<code>250万</code> for a home, <code>¥3000</code> for a rent or an item."
    ),
    "watch_started": (
        "🔔 Watching <b>{title}</b>\nNow: {price} · {status}\nRule: {rule}\n"
        "I'll tell you when the price drops past your rule, or when it is sold, rented, "
        "taken down or back on sale. /watches lists your watches."
    ),
    "watch_updated": "🔔 Rule changed for <b>{title}</b>\nNow: {price} · {status}\nRule: {rule}",
    "watch_target_met": "The price is already at or below your target: you'll get an alert at the first check.",
    "watch_limit": "You already watch {limit} listings, the most I keep per person. /unwatch one first.",
    "watch_button_started": "🔔 Watching: any price drop. /watches lists your watches.",
    "watch_button_already": "You already watch this listing ({rule}).",
    "watches_empty": "You watch nothing yet. Send <code>/watch &lt;link&gt;</code> or press 🔔 on a card.",
    "watches_header": "🔔 <b>Your watches</b> ({count} of {limit})",
    "watches_platform_cap": "{platform}: {count} of {limit} (this bot's plan checks no more often)",
    "watches_line": "{number}. <b>{title}</b>\n    {price} · {rule} · {checked}",
    "watches_paused": "⏸ paused: you had blocked me",
    "watches_footer": "Stop one with <code>/unwatch &lt;number&gt;</code> or a button below.",
    "checked_never": "not checked yet",
    "checked_just_now": "checked just now",
    "checked_minutes": "checked {n} min ago",
    "checked_hours": "checked {n} h ago",
    "checked_days": "checked {n} d ago",
    "unwatch_usage": "Send <code>/unwatch &lt;number&gt;</code>; /watches shows the numbers.",
    "unwatch_bad_number": "You have no watch number {number}. /watches shows the numbers.",
    "unwatch_done": "🔕 Stopped watching <b>{title}</b>.",
    "unwatch_done_short": "🔕 Stopped watching.",
    # -- inline mode: @bot <link> (handlers/inline.py)
    "inline_hint": "Paste a listing link to share its card",
    # -- /demo_drop, only in --demo (handlers/demo.py)
    "demo_drop_done": "🧪 Sandbox: {count} watched listing(s) now {percent}% cheaper. Checking now; the alert follows in a few seconds.",
    "demo_drop_nothing": "🧪 You watch no sandbox listing yet. Paste a link, press 🔔, then try /demo_drop again.",
    "demo_drop_usage": "🧪 Usage: /demo_drop [percent], e.g. /demo_drop 15 (1 to 90; default 10).",
    "not_your_watch": "This watch isn't yours, or it no longer exists.",
    "btn_unwatch_n": "🔕 {number}",
    "btn_view_card": "📄 Card",
    "btn_history": "📈 History",
    "btn_unwatch": "🔕 Unwatch",
    "history_empty": "No price history yet.",
    "history_caption": "📈 <b>{title}</b>\nNow: {price} · lowest seen: {lowest}",
    "rule_any_drop": "any drop",
    "rule_percent": "a drop of {percent}% or more",
    "rule_target": "at or below {price}",
    "alert_price_drop": "📉 <b>Price drop</b>",
    "alert_target_reached": "🎯 <b>Target price reached</b>",
    "alert_sold": "🔴 <b>Sold</b>",
    "alert_rented": "🔴 <b>Rented</b>",
    "alert_taken_down": "⚫ <b>Taken down</b>",
    "alert_back_on_sale": "🟢 <b>Back on sale</b>",
    "alert_price_change": "{old} → <b>{new}</b> ({percent}%)",
    "alert_price_now": "Price: <b>{price}</b>",
    "alert_last_price": "Last price: {price}",
    "alert_lowest": "Lowest seen: {price}",
    "alert_rule": "Your rule: {rule}",
    # -- Anjuke account link: /link, /account (handlers/account.py)
    "link_usage": (
        "Send <code>/link</code> and share your phone number with the button I show: I link "
        "the Anjuke account registered to the number Telegram verified for you. You may name "
        "the account: <code>/link 13800138000</code>, <code>/link you@example.com</code> or "
        "<code>/link &lt;Anjuke ID&gt;</code>."
    ),
    "link_bad_account": "That is not a phone number, an email address or an Anjuke ID.",
    "private_only": "Please use this in a private chat with me: it involves your personal data.",
    "btn_continue_private": "Continue in private ↗",
    "link_share_phone": (
        "🔐 To link an Anjuke account I need to know it is yours. Press "
        "<b>📱 Share my phone number</b> below: Telegram sends me the number it verified for "
        "you, and I link only the account registered to it. I keep the number only with the "
        "link; /forget deletes it."
    ),
    "btn_share_phone": "📱 Share my phone number",
    "link_not_own_contact": (
        "That contact is not your own number. Press <b>📱 Share my phone number</b> to share yours."
    ),
    "link_no_request": "Send /link first, then share your phone number with the button.",
    "link_not_mainland": (
        "Anjuke accounts use mainland China mobile numbers (+86); the number Telegram verified "
        "for you is not one, so I can't link an account to it."
    ),
    "link_not_your_phone": (
        "That is not the phone number Telegram verified for you, so I can't link it. "
        "Send /link to link the account of your own number."
    ),
    "link_not_yours": (
        "I can't link that account: it is not registered to the phone number Telegram verified "
        "for you. Send /link without an account to link the one registered to your number."
    ),
    "link_taken": (
        "That Anjuke account is already linked to another Telegram account. "
        "It can be linked here once it is unlinked there (/forget)."
    ),
    "link_done": "✅ Linked Anjuke account <code>{id}</code>.\n{details}",
    "link_offer_phone": "Anjuke has no account with your phone number {account} (1011). Create one with it?",
    "btn_create_account": "✅ Create account",
    "btn_cancel": "✖ Cancel",
    "link_created": (
        "✅ Created Anjuke account <code>{id}</code> and linked it.\n{details}\n"
        "Anjuke chose a password for it: use “forgot password” on Anjuke to set your own."
    ),
    "link_exists_phone": "Anjuke says this phone number already has an account (1001). Send /link again to link it.",
    "link_exists_email": "Anjuke says this email address already has an account (1002). Send /link again to link it.",
    "link_failed": "Anjuke couldn't do that just now. Try again in a few minutes.",
    "link_cancelled": "Cancelled. No account was created.",
    "link_expired": "This question has expired. Send /link again.",
    "not_your_button": "This button belongs to someone else.",
    "account_none": "No Anjuke account linked. Send /link to link yours.",
    "account_unproven": (
        "Your Anjuke link was made before I checked that accounts belong to whoever links them, "
        "so I show nothing about it. Send /link and share your phone number to link it again."
    ),
    "account_show": "👤 <b>Your Anjuke account</b>\nID: <code>{id}</code>\n{details}\nLinked on {date}{created}",
    "account_name": "Name: {value}",
    "account_phone": "Phone: {value}",
    "account_email": "Email: {value}",
    "account_created_by_bot": " (created through this bot)",
    # -- /forget (handlers/forget.py)
    "forget_confirm": (
        "This deletes everything I keep about you: {watches} watches with their alerts, "
        "{account} and your settings. It cannot be undone. Go ahead?"
    ),
    "forget_account_yes": "your linked Anjuke account",
    "forget_account_no": "no linked account",
    "btn_forget_yes": "🗑 Delete everything",
    "btn_forget_no": "Keep my data",
    "forget_done": (
        "🗑 Deleted: {watches} watches, {alerts} alerts, {account}, {settings}. "
        "I keep nothing about you now."
    ),
    "forget_settings_yes": "your settings (language, city)",
    "forget_settings_no": "no stored settings",
    "forget_kept": "Nothing was deleted.",
    # -- /stats (handlers/admin.py)
    "admin_only": "This command is for the bot's operators.",
    # -- trade-in quotes (handlers/quotes.py, handlers/quote_card.py)
    "quote_breakdown": "{base} × {discount} − {deduction} × {coefficient} = {final} (base price × condition − function deduction × market)",
    "quote_condition": "Condition",
    "quote_function": "Function",
    "quote_repair": "Repairs",
    "quote_channel": "Bought",
    "quote_spec": "Spec",
    "quote_recycle": "How Aihuishou collects it:",
    "quote_recycle_door": "Door-to-door pickup",
    "quote_recycle_store": "In store",
    "quote_recycle_mail": "Mail-in",
    "quote_store_km": "({km} km away)",
    "quote_valid_until": "Quote valid until {time} (China time)",
    "btn_quote_condition": "🔄 Change condition",
    "btn_quote_function": "🔧 Change function status",
    "btn_quote_again": "💱 Quote again",
    "quote_ask_brand": "💱 Which brand is the device?",
    "quote_ask_model": "💱 Which model is it?",
    "quote_ask_storage": "💱 How much storage does it have?",
    "quote_ask_ram": "💱 How much memory (RAM) does it have?",
    "quote_ask_condition": "💱 What condition is it in?",
    "quote_ask_function_status": "💱 Does everything work? Pick the most serious fault.",
    "quote_type_or_press": "Press a button or type the answer.",
    "quote_not_recorded": "Aihuishou doesn't price <b>{model}</b>. Did you mean one of these?",
    "quote_field_brand": "brand",
    "quote_field_model": "model",
    "quote_field_storage": "storage",
    "quote_field_ram": "memory",
    "quote_field_condition": "condition",
    "quote_field_function_status": "function status",
    "quote_kind_not_quoted": "Aihuishou doesn't quote this kind of device (smartwatches) here yet.",
    "quote_cannot_ask": "I have no {field} options for this device, so I can't quote it.",
    "quote_typed_unknown": "I didn't understand that answer. Press a button, type one of the options, or send /cancel.",
    "quote_cancelled": "Quote cancelled.",
    "quote_nothing_to_cancel": "Nothing to cancel.",
    "quote_timed_out": "⌛ No answer for 10 minutes, so I stopped asking. Send /quote to start again.",
    "quote_expired": "This question has ended. Send /quote to start again.",
    "quote_card_expired": "This quote is too old to change. Send /quote again.",
    "quote_too_many": "I quote at most {count} devices per message; {dropped} more were left out.",
    "quote_unchanged": "Same price as before.",
    "quote_requoted": "Quote updated.",
    "btn_tradein": "💱 Trade-in value",
    "tradein_compare": "asking {asking} · Aihuishou pays {pays} for it in this condition",
    "tradein_no_device": "I can't tell which device this listing is, so I can't quote it.",
    "qv_全新": "Brand new",
    "qv_99新": "Like new (99%)",
    "qv_95新": "Excellent (95%)",
    "qv_九成新": "Good (90%)",
    "qv_八成新": "Fair (80%)",
    "qv_七成新及以下": "Worn (70% or less)",
    "qv_正常": "Works perfectly",
    "qv_电池老化": "Worn battery",
    "qv_扬声器/麦克风故障": "Speaker/mic fault",
    "qv_摄像头故障": "Camera fault",
    "qv_信号故障": "Signal fault",
    "qv_面容/指纹故障": "Face ID/fingerprint fault",
    "qv_屏幕显示异常": "Display fault",
    "qv_屏幕损坏": "Cracked screen",
    "qv_进水": "Water damage",
    "qv_无法开机": "Won't turn on",
}
