//! Test posts: realistic Spanish and English Facebook posts, weak and
//! strong, with the facts (prices, dates, names, links) real posts carry.

/// (language code, post).
pub const POSTS: &[(&str, &str)] = &[
    // --- Spanish, weak
    (
        "es",
        "HOLA A TODOS!!! DALE LIKE SI TE GUSTA EL CAFÉ Y COMPARTE CON TUS AMIGOS!!! Nuestro café de Colombia cuesta 4,50 € y lo servimos desde las 8:00 en la calle Mayor 12. #cafe #coffee #rico #amor #instafood #foodie #CAFETERIA #desayuno",
    ),
    (
        "es",
        "Comenta SÍ si quieres ganar 2 entradas para el concierto de Vetusta Morla del 15 de mayo!!! Etiqueta a 3 amigos!!!",
    ),
    (
        "es",
        "Buenos días a todos. Abrimos una panadería nueva en el centro de Sevilla. El pan es muy rico. El pan es muy bueno. Estamos muy contentos. Gracias.",
    ),
    (
        "es",
        "OFERTA INCREÍBLE!!!!! 30% DE DESCUENTO EN TODA LA TIENDA HASTA EL DOMINGO 🔥🔥🔥🔥🔥🔥🔥🔥 Comparte si te gusta!!! https://tienda.example.com/rebajas",
    ),
    (
        "es",
        "Nuestro taller de cerámica empieza el martes 3 de junio a las 18:00 en el Centro Cívico de Gracia. Plazas limitadas a 12 personas. Precio: 45 €.",
    ),
    (
        "es",
        "Hoy celebramos 10 años con vosotros. Gracias a todos los que habéis pasado por La Tasca de Pepe. Ha sido un camino largo. Ha sido un camino bonito. Ha sido un camino lleno de aprendizajes, de esfuerzos, de madrugones y de mucho trabajo en la cocina. Seguimos. # aniversario #tasca #tasca",
    ),
    (
        "es",
        "Reacciona con ❤️ si amas a los perros. Comparte esta publicación para que llegue a más gente. Adopta en la Protectora de Valencia: www.protectora.example.org",
    ),
    (
        "es",
        "Nuevo horario de la biblioteca municipal: de lunes a viernes de 9:00 a 20:00",
    ),
    (
        "es",
        "Receta de tortilla de patatas de mi abuela Carmen: 6 huevos, 4 patatas, 1 cebolla y aceite de oliva. Queda jugosa por dentro. Es la mejor receta del mundo. Es muy fácil. Escribe AMÉN si te gusta la tortilla!!!",
    ),
    (
        "es",
        "COMPRA YA TU ENTRADA PARA EL FESTIVAL!!! QUEDAN POCAS!!! 25 € EN TAQUILLA #festival #musica #verano #fiesta #conciertos #planes",
    ),
    // --- Spanish, strong
    (
        "es",
        "¿Sabías que el 80% del sabor del café depende del tueste? ☕\nEste sábado te enseñamos en directo cómo tostamos cada lote, con tiempo para tus preguntas.\nReserva tu plaza en el enlace de la bio. ¿Qué café preparas tú en casa? 👇 #CaféDeEspecialidad",
    ),
    (
        "es",
        "¿Buscas plan para el domingo? 🌿 Ruta guiada por el Parque del Retiro a las 10:30, gratis y apta para familias. Apúntate en el enlace y cuéntanos qué rincón del parque te gusta más. #Madrid",
    ),
    // --- English, weak
    (
        "en",
        "LIKE AND SHARE IF YOU LOVE PIZZA!!! TAG A FRIEND WHO NEEDS PIZZA!!! Our Margherita is $12 and we are open until 11pm at 45 Baker Street. #pizza #food #yummy #love #instafood #foodie #PIZZAPARTY #dinner",
    ),
    (
        "en",
        "Share to win a $50 gift card from Bloom Florist!!! Comment YES if you want it!!!",
    ),
    (
        "en",
        "Hello everyone. We opened a new bakery in Portland. The bread is very good. The bread is very fresh. We are very happy. Thank you.",
    ),
    (
        "en",
        "HUGE SALE THIS WEEKEND!!!!! 40% OFF EVERYTHING 🔥🔥🔥🔥🔥🔥🔥🔥🔥 Like if you love deals!!! https://shop.example.com/sale",
    ),
    (
        "en",
        "Our pottery workshop starts Tuesday, June 3 at 6pm at the Riverside Community Center. Spots are limited to 12 people. Price: $45.",
    ),
    (
        "en",
        "Today we celebrate 10 years with you. Thank you to everyone who has visited Joe's Diner. It has been a long road. It has been a beautiful road. It has been a road full of lessons, early mornings, hard work in the kitchen and a lot of coffee. Here's to the next ten. # anniversary #diner #diner",
    ),
    (
        "en",
        "Type AMEN if you believe in second chances. Our shelter in Austin has 23 dogs waiting for a home: www.shelter.example.org",
    ),
    ("en", "New library hours: Monday to Friday 9am to 8pm"),
    (
        "en",
        "My grandma Rose's pancake recipe: 2 cups flour, 2 eggs, 1 cup milk. They come out fluffy every time. It is the best recipe in the world. It is very easy. Double tap if you love pancakes!!!",
    ),
    // --- English, strong
    (
        "en",
        "Did you know most home bakers skip the one step that makes bread rise? 🍞\nThis Saturday at 10am we'll show it live in our kitchen, with time for your questions.\nSave your spot at the link in bio. What do you bake most often? 👇 #BakingTips",
    ),
    (
        "en",
        "Looking for a Sunday plan? 🌿 Free guided walk through Central Park at 10:30, perfect for families. Sign up at the link and tell us your favourite corner of the park. #NYC",
    ),
    (
        "en",
        "3 mistakes that ruin your coffee at home (and how to fix them) ☕ Read the guide: https://beans.example.com/guide What's your brewing method? #CoffeeTips",
    ),
];
